import { Sender } from 'ws';
const proto = Sender.prototype;
const original = proto.sendFrame;
proto.sendFrame = function (list, cb) {
  const socket = this._socket;
  if (socket.writableCorked === 0) {
    socket.cork();
    process.nextTick(() => socket.uncork());
  }
  return original.call(this, list, cb);
};
