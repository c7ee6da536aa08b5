import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { ChatApp } from './ChatApp.tsx';
import { DemoShell } from './shell/index.ts';
import './shell/base.css';
import './chat.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <DemoShell appTitle="Chat">{(session) => <ChatApp session={session} />}</DemoShell>
  </StrictMode>,
);
