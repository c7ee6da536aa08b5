import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { CollabApp } from './CollabApp.tsx';
import { DemoShell } from './shell.ts';
import '../../chat/src/shell/base.css';
import './collab.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <DemoShell appTitle="Collaborative editor">{(session) => <CollabApp session={session} />}</DemoShell>
  </StrictMode>,
);
