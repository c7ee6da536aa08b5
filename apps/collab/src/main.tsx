import { DemoShell } from '@switchboard/demo-ui';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { CollabApp } from './CollabApp.tsx';
import '@switchboard/demo-ui/base.css';
import './collab.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <DemoShell appTitle="Collaborative editor">{(session) => <CollabApp session={session} />}</DemoShell>
  </StrictMode>,
);
