//! `IoLoop`: cross-thread callbacks, the backlog limit, panics, timers and `run_sync`, with real
//! threads and real timers.

mod support;

use std::{
    cell::RefCell,
    panic::catch_unwind,
    rc::Rc,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
        mpsc,
    },
    thread,
    time::{Duration, Instant},
};

use cyclone::ioloop::{IoLoop, LoopError};
use support::logs::captured_tracing;
use support::wait::{self, WAIT, on_own_thread};

#[test]
fn add_callback_from_eight_threads_runs_each_once_in_fifo_order_on_the_loop() {
    const PRODUCERS: usize = 8;
    const PER_PRODUCER: usize = 10_000;
    on_own_thread(Duration::from_secs(60), || {
        cyclone::run(async {
            let io_loop = IoLoop::new().unwrap();
            let loop_thread = io_loop.thread_id();
            // Only the loop thread touches these, so the mutexes are never contended.
            let seen: Arc<Vec<Mutex<Vec<usize>>>> =
                Arc::new((0..PRODUCERS).map(|_| Mutex::new(Vec::new())).collect());
            let off_loop = Arc::new(AtomicUsize::new(0));

            let producers: Vec<_> = (0..PRODUCERS)
                .map(|producer| {
                    let io_loop = io_loop.clone();
                    let seen = seen.clone();
                    let off_loop = off_loop.clone();
                    thread::spawn(move || {
                        for number in 0..PER_PRODUCER {
                            let seen = seen.clone();
                            let off_loop = off_loop.clone();
                            io_loop
                                .add_callback(move || {
                                    if thread::current().id() != loop_thread {
                                        off_loop.fetch_add(1, Ordering::Relaxed);
                                    }
                                    seen[producer].lock().unwrap().push(number);
                                })
                                .unwrap();
                        }
                    })
                })
                .collect();
            for producer in producers {
                producer.join().unwrap();
            }
            let (done, finished) = mpsc::channel();
            io_loop
                .add_callback(move || done.send(()).unwrap())
                .unwrap();
            finished.recv_timeout(WAIT).unwrap();

            assert_eq!(
                off_loop.load(Ordering::Relaxed),
                0,
                "a callback ran off the loop"
            );
            for (producer, numbers) in seen.iter().enumerate() {
                let numbers = numbers.lock().unwrap();
                let expected: Vec<usize> = (0..PER_PRODUCER).collect();
                assert!(
                    *numbers == expected,
                    "producer {producer}: {} callbacks ran, not each once in order",
                    numbers.len()
                );
            }
            assert_eq!(io_loop.pending_callbacks(), 0);
            io_loop.stop();
        })
    });
}

#[test]
fn a_full_backlog_refuses_callbacks_until_the_loop_catches_up() {
    on_own_thread(Duration::from_secs(30), || {
        cyclone::run(async {
            let io_loop = IoLoop::with_callback_backlog(4).unwrap();
            assert_eq!(io_loop.callback_backlog(), 4);
            let (blocked, loop_is_blocked) = mpsc::channel();
            let (release, released) = mpsc::channel::<()>();
            io_loop
                .add_callback(move || {
                    blocked.send(()).unwrap();
                    let _ = released.recv_timeout(WAIT);
                })
                .unwrap();
            loop_is_blocked.recv_timeout(WAIT).unwrap();

            let ran = Arc::new(AtomicUsize::new(0));
            for _ in 0..4 {
                let ran = ran.clone();
                io_loop
                    .add_callback(move || {
                        ran.fetch_add(1, Ordering::Relaxed);
                    })
                    .unwrap();
            }
            assert_eq!(io_loop.pending_callbacks(), 4);
            let refused = io_loop.add_callback(|| unreachable!("a refused callback ran"));
            assert!(
                matches!(refused, Err(LoopError::BacklogFull { limit: 4 })),
                "{refused:?}"
            );
            let refused = io_loop.spawn_callback(|| async { unreachable!("refused") });
            assert!(matches!(refused, Err(LoopError::BacklogFull { limit: 4 })));

            release.send(()).unwrap();
            let mut value = None;
            wait::blocking_until(
                "the loop accepts callbacks once it caught up",
                || match io_loop.run_sync_timeout(WAIT, || async { 7 }) {
                    Err(LoopError::BacklogFull { .. }) => false,
                    other => {
                        value = Some(other.expect("the loop runs the callback"));
                        true
                    }
                },
            );
            assert_eq!(value, Some(7));
            assert_eq!(ran.load(Ordering::Relaxed), 4);
            assert_eq!(io_loop.pending_callbacks(), 0);
            io_loop.stop();
        })
    });
}

#[test]
fn panicking_callbacks_timers_and_futures_are_logged_and_the_loop_goes_on() {
    let logs = captured_tracing();
    on_own_thread(Duration::from_secs(30), move || {
        cyclone::run(async move {
            let io_loop = IoLoop::new().unwrap();
            io_loop
                .add_callback(|| panic!("callback-boom-7731"))
                .unwrap();
            io_loop
                .spawn_callback(|| async { panic!("future-boom-7732") })
                .unwrap();
            io_loop
                .call_later_threadsafe(Duration::from_millis(1), || panic!("timer-boom-7733"))
                .unwrap();
            let (after, ran_after) = mpsc::channel();
            io_loop
                .call_later_threadsafe(Duration::from_millis(30), move || after.send(42).unwrap())
                .unwrap();
            assert_eq!(ran_after.recv_timeout(WAIT).unwrap(), 42);
            assert_eq!(io_loop.run_sync_timeout(WAIT, || async { 1 }).unwrap(), 1);
            io_loop.stop();
        })
    });
    for marker in ["callback-boom-7731", "future-boom-7732", "timer-boom-7733"] {
        assert!(logs.contain(marker), "panic {marker} was not logged");
    }
}

#[test]
fn call_later_runs_in_deadline_order_and_equal_deadlines_in_scheduling_order() {
    on_own_thread(Duration::from_secs(30), || {
        cyclone::run(async {
            let io_loop = IoLoop::current();
            let order = Rc::new(RefCell::new(Vec::new()));
            let push = |label: &'static str| {
                let order = order.clone();
                move || order.borrow_mut().push(label)
            };
            io_loop
                .call_later(Duration::from_millis(40), push("40ms"))
                .unwrap();
            io_loop
                .call_later(Duration::from_millis(10), push("10ms"))
                .unwrap();
            io_loop
                .call_later(Duration::from_millis(30), push("30ms"))
                .unwrap();
            let shared_deadline = Instant::now() + Duration::from_millis(20);
            for label in ["tie-a", "tie-b", "tie-c", "tie-d"] {
                io_loop.call_at(shared_deadline, push(label)).unwrap();
            }
            let cancelled = io_loop
                .call_later(Duration::from_millis(5), push("cancelled"))
                .unwrap();
            assert!(cancelled.is_pending());
            assert!(io_loop.remove_timeout(&cancelled));
            assert!(!cancelled.is_pending());
            assert!(!cancelled.cancel(), "cancelling twice reports false");

            let (done, finished) = tokio::sync::oneshot::channel();
            let fired = io_loop
                .call_later(Duration::from_millis(80), move || done.send(()).unwrap())
                .unwrap();
            tokio::time::timeout(WAIT, finished).await.unwrap().unwrap();
            assert!(!fired.cancel(), "a timeout that ran cannot be cancelled");
            assert_eq!(
                *order.borrow(),
                ["10ms", "tie-a", "tie-b", "tie-c", "tie-d", "30ms", "40ms"]
            );
        })
    });
}

#[test]
fn timeouts_cancelled_from_another_thread_never_run() {
    on_own_thread(Duration::from_secs(30), || {
        cyclone::run(async {
            let io_loop = IoLoop::new().unwrap();
            let ran = Arc::new(AtomicUsize::new(0));
            let handles: Vec<_> = (0..100)
                .map(|_| {
                    let ran = ran.clone();
                    io_loop
                        .call_later_threadsafe(Duration::from_millis(50), move || {
                            ran.fetch_add(1, Ordering::Relaxed);
                        })
                        .unwrap()
                })
                .collect();
            for handle in &handles {
                assert!(io_loop.remove_timeout(handle));
            }
            let (done, finished) = mpsc::channel();
            io_loop
                .call_later_threadsafe(Duration::from_millis(120), move || done.send(()).unwrap())
                .unwrap();
            finished.recv_timeout(WAIT).unwrap();
            assert_eq!(ran.load(Ordering::Relaxed), 0);
            io_loop.stop();
        })
    });
}

#[test]
fn cancelled_timeouts_do_not_pile_up_in_the_timer_heap() {
    on_own_thread(Duration::from_secs(30), || {
        cyclone::run(async {
            let io_loop = IoLoop::current();
            for _ in 0..10_000 {
                let handle = io_loop
                    .call_later(Duration::from_secs(3600), || unreachable!("cancelled"))
                    .unwrap();
                handle.cancel();
            }
            let live = io_loop
                .call_later(Duration::from_secs(3600), || {})
                .unwrap();
            assert!(
                io_loop.pending_timeouts().unwrap() < 200,
                "{} entries kept for 1 live timeout",
                io_loop.pending_timeouts().unwrap()
            );
            live.cancel();
        })
    });
}

#[test]
fn loop_thread_operations_refuse_other_threads() {
    on_own_thread(Duration::from_secs(30), || {
        cyclone::run(async {
            let io_loop = IoLoop::new().unwrap();
            assert!(!io_loop.is_current());
            let refused = io_loop.call_later(Duration::from_millis(1), || {});
            assert!(matches!(refused, Err(LoopError::NotOnLoop)), "{refused:?}");
            assert!(matches!(
                io_loop.pending_timeouts(),
                Err(LoopError::NotOnLoop)
            ));
            io_loop.stop();
        })
    });
}

#[test]
fn current_is_the_same_loop_on_one_thread_and_absent_off_actix_threads() {
    on_own_thread(Duration::from_secs(30), || {
        assert!(IoLoop::try_current().is_none());
        let panicked = catch_unwind(IoLoop::current);
        assert!(panicked.is_err(), "current() outside a System must panic");
        assert!(matches!(IoLoop::new(), Err(LoopError::NoSystem)));
        cyclone::run(async {
            let first = IoLoop::current();
            let second = IoLoop::current();
            assert_eq!(first, second);
            assert!(first.is_current());
            assert_eq!(first.thread_id(), thread::current().id());

            let other = IoLoop::new().unwrap();
            assert_ne!(other, first);
            let seen_there = other
                .run_sync_timeout(WAIT, || async { IoLoop::current() })
                .unwrap();
            assert_eq!(seen_there, other);
            other.stop();
        })
    });
}

#[test]
fn run_sync_from_a_foreign_thread_returns_the_value() {
    on_own_thread(Duration::from_secs(30), || {
        cyclone::run(async {
            let io_loop = IoLoop::new().unwrap();
            let handle = io_loop.clone();
            let from_thread = thread::spawn(move || {
                handle.run_sync(|| async {
                    // Not Send: built on the loop thread, where it stays.
                    let local = Rc::new(40);
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    *local + 2
                })
            })
            .join()
            .unwrap();
            assert_eq!(from_thread.unwrap(), 42);

            let inner = io_loop
                .run_sync_timeout(WAIT, || async {
                    IoLoop::current().run_sync(|| async { 1 })
                })
                .unwrap();
            assert!(matches!(inner, Err(LoopError::WouldDeadlock)), "{inner:?}");

            let timed_out =
                io_loop.run_sync_timeout(Duration::from_millis(50), std::future::pending::<()>);
            assert!(
                matches!(timed_out, Err(LoopError::TimedOut { .. })),
                "{timed_out:?}"
            );

            let panicked = io_loop.run_sync_timeout(WAIT, || async { panic!("run-sync-boom") });
            match panicked {
                Err(LoopError::Panicked(message)) => assert!(message.contains("run-sync-boom")),
                other => panic!("expected Panicked, got {other:?}"),
            }

            io_loop.stop();
            wait::blocking_until("the stopped loop answers Closed", || {
                matches!(
                    io_loop.run_sync_timeout(Duration::from_secs(1), || async {}),
                    Err(LoopError::Closed)
                )
            });
        })
    });
}

#[test]
fn run_sync_on_the_loops_own_thread_would_deadlock() {
    on_own_thread(Duration::from_secs(30), || {
        cyclone::run(async {
            let io_loop = IoLoop::current();
            let refused = io_loop.run_sync(|| async { 1 });
            assert!(
                matches!(refused, Err(LoopError::WouldDeadlock)),
                "{refused:?}"
            );
        })
    });
}
