//! The closed loop both clients share: how long to run, what is counted, and when to stop.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How a run is shaped.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Requests in flight at once: each of this many workers sends its next request as soon as
    /// the previous response is complete.
    pub concurrency: usize,
    /// Run but not counted, so connection set-up and cold caches stay out of the rate.
    pub warmup: Duration,
    /// The counted window.
    pub duration: Duration,
}

/// Longest a worker may take to finish its last request after the window closes; the client's
/// own request timeout is longer, so a stuck server ends the run here instead.
pub const DRAIN_LIMIT: Duration = Duration::from_secs(10);

/// Counters the workers update and the window reads. Atomics, though every worker of a run is
/// on one thread: uncontended, they cost about what a `Cell` does and serve both runtimes.
#[derive(Debug, Default)]
pub struct Tally {
    /// Complete 2xx responses, body read.
    completed: AtomicU64,
    /// Failed requests and non-2xx answers, warm-up included.
    errors: AtomicU64,
    /// Set when the window closes: workers send nothing more.
    stopped: AtomicBool,
    /// The first error seen, printed once to explain a non-zero `errors`.
    first_error: Mutex<Option<String>>,
}

impl Tally {
    /// A tally shared by one run's workers.
    pub fn shared() -> Arc<Tally> {
        Arc::new(Tally::default())
    }

    /// Whether workers should stop sending.
    pub fn stopped(&self) -> bool {
        self.stopped.load(Ordering::Relaxed)
    }

    /// One complete response.
    pub fn success(&self) {
        self.completed.fetch_add(1, Ordering::Relaxed);
    }

    /// One failure; the first one is kept for the report.
    pub fn failure(&self, error: impl std::fmt::Display) {
        if self.errors.fetch_add(1, Ordering::Relaxed) == 0
            && let Ok(mut first) = self.first_error.lock()
        {
            *first = Some(error.to_string());
        }
    }

    /// Waits out the warm-up, counts the window, then tells the workers to stop.
    pub async fn window(&self, plan: Plan) -> Measurement {
        tokio::time::sleep(plan.warmup).await;
        let opened = Instant::now();
        let cpu_before = process_cpu_seconds();
        let before = self.completed.load(Ordering::Relaxed);
        tokio::time::sleep(plan.duration).await;
        let after = self.completed.load(Ordering::Relaxed);
        let elapsed = opened.elapsed();
        let cpu_after = process_cpu_seconds();
        self.stopped.store(true, Ordering::Relaxed);
        if let Ok(first) = self.first_error.lock()
            && let Some(error) = first.as_ref()
        {
            eprintln!("first error: {error}");
        }
        Measurement {
            requests: after - before,
            errors: self.errors.load(Ordering::Relaxed),
            elapsed,
            cpu_seconds: cpu_before
                .zip(cpu_after)
                .map(|(before, after)| after - before),
        }
    }
}

/// CPU time (user + system) this process has used, from `/proc/self/stat`; `None` off Linux.
/// It tells whether the client or the server set the pace: a client near 1.0 core is the limit.
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name may hold spaces and parentheses: count fields after its last `)`.
    let fields: Vec<&str> = stat
        .get(stat.rfind(')')? + 1..)?
        .split_whitespace()
        .collect();
    // utime and stime are fields 14 and 15 of proc(5), in clock ticks (USER_HZ, 100 on Linux).
    let user: f64 = fields.get(11)?.parse().ok()?;
    let system: f64 = fields.get(12)?.parse().ok()?;
    Some((user + system) / 100.0)
}

/// What one run measured.
#[derive(Debug, Clone, Copy)]
pub struct Measurement {
    /// Responses completed inside the window.
    pub requests: u64,
    /// Failures over the whole run, warm-up included.
    pub errors: u64,
    /// The window's real length (timers fire late on a busy machine).
    pub elapsed: Duration,
    /// CPU time the whole client process used inside the window.
    pub cpu_seconds: Option<f64>,
}

impl Measurement {
    /// Responses per second of the window.
    pub fn rps(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    /// Cores the client used inside the window (`-1` when unknown).
    pub fn cores(&self) -> f64 {
        self.cpu_seconds.map_or(-1.0, |cpu| {
            cpu / self.elapsed.as_secs_f64().max(f64::EPSILON)
        })
    }
}
