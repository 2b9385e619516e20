//! Acme TCP: a transport provider written against `ws2sim::Transport`, the way a
//! provider author would model their own DLL. It keeps its own globals (a count of
//! start-ups and what it holds), and overrides WSPStartup and WSPCleanup; DllMain and
//! the final clean-up's steps are ws2sim's conforming ones.
//!
//! `AcmeTcp::with_fast_path()` has the bug this example is about: a fast path that
//! reads the count before taking the lock, so two SPI clients in one process can both
//! see the same count (seed 003: only the WSPCleanup matching the last WSPStartup may
//! do the actual clean-up).

use ws2sim::spi::conforming;
use ws2sim::wsa::WSANOTINITIALISED;
use ws2sim::{Reply, Spi, Transport};

/// The provider. Its routines are the same in every process; each process has its own
/// [`Globals`].
#[derive(Default)]
pub struct AcmeTcp {
    fast_path: bool,
}

impl AcmeTcp {
    /// The provider as it should be.
    pub fn new() -> AcmeTcp {
        AcmeTcp::default()
    }

    /// The provider with the unlocked fast path in WSPCleanup.
    pub fn with_fast_path() -> AcmeTcp {
        AcmeTcp { fast_path: true }
    }
}

/// Acme's DLL globals in one process.
#[derive(Default)]
pub struct Globals {
    /// WSPStartup calls not yet matched by a WSPCleanup.
    pub starts: u32,
}

impl Transport for AcmeTcp {
    async fn startup(&self, spi: &Spi<'_>) -> Reply {
        spi.lock().await;
        let starts = spi.with(|g: &mut Globals| g.starts);
        if starts == 0 {
            // The first start in this process: ws2sim's conforming set-up (memory,
            // machine-wide registration, the worker thread).
            if let Err(reply) = conforming::initialise(spi).await {
                spi.unlock();
                return reply;
            }
        }
        spi.with(|g: &mut Globals| g.starts += 1);
        spi.unlock();
        Reply::ok().counted(starts, starts + 1, false)
    }

    async fn cleanup(&self, spi: &Spi<'_>) -> Reply {
        let mut starts = spi.with(|g: &mut Globals| g.starts);
        if self.fast_path && starts > 1 {
            // The bug: "not the last one, nothing to tear down" decided without the
            // lock. Another thread may run here (an `.await` is where it can).
            spi.yield_now().await;
            spi.with(|g: &mut Globals| g.starts = starts - 1);
            return Reply::ok().counted(starts, starts - 1, false);
        }
        spi.lock().await;
        starts = spi.with(|g: &mut Globals| g.starts);
        let reply = match starts {
            0 => Reply::fail(WSANOTINITIALISED),
            1 => {
                spi.with(|g: &mut Globals| g.starts = 0);
                conforming::final_cleanup(spi).await;
                Reply::ok().counted(1, 0, true)
            }
            _ => {
                spi.with(|g: &mut Globals| g.starts -= 1);
                Reply::ok().counted(starts, starts - 1, false)
            }
        };
        spi.unlock();
        reply
    }
}
