import { DemoShell } from '@switchboard/demo-ui';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { DashboardApp } from './DashboardApp.tsx';
import '@switchboard/demo-ui/base.css';
import './dashboard.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <DemoShell appTitle="Dashboard">{() => <DashboardApp />}</DemoShell>
  </StrictMode>,
);
