import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { DashboardApp } from './DashboardApp.tsx';
import { DemoShell } from './shell.ts';
import '../../chat/src/shell/base.css';
import './dashboard.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <DemoShell appTitle="Dashboard">{() => <DashboardApp />}</DemoShell>
  </StrictMode>,
);
