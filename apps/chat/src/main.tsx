import { DemoShell } from '@switchboard/demo-ui';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { ChatApp } from './ChatApp.tsx';
import '@switchboard/demo-ui/base.css';
import './chat.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <DemoShell appTitle="Chat">{(session) => <ChatApp session={session} />}</DemoShell>
  </StrictMode>,
);
