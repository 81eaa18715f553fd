// One `vigie` command run by the demo as a child process. If the demo itself disappears without
// stopping it (kill -9, a closed terminal), the child notices its new parent and stops cleanly,
// so no process is left behind. The demo passes its pid: it may die before this line runs.
const parent = Number(process.env['VIGIE_DEMO_PID']) || process.ppid;
const watchdog = setInterval(() => {
  if (process.ppid === parent) return;
  clearInterval(watchdog);
  process.kill(process.pid, 'SIGTERM');
}, 1000);
watchdog.unref();

const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv);
