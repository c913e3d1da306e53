/** Runs cleanups (stop workers, the example's Herald) once on Ctrl-C or SIGTERM, then exits. */
export function onShutdown(cleanup: () => Promise<void> | void): void {
  let done = false;
  const stop = async () => {
    if (done) return;
    done = true;
    try {
      await cleanup();
    } finally {
      process.exit(0);
    }
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
