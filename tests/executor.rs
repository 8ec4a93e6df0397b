//! The blocking pool: jobs run off the loop, the loop keeps ticking, the queue is bounded and
//! a panicking job does not kill its worker.

mod support;

use std::{
    cell::RefCell,
    rc::Rc,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
        mpsc,
    },
    thread,
    time::{Duration, Instant},
};

use cyclone::Runtime;
use cyclone::ioloop::{BlockingPool, ExecutorError, IoLoop, PeriodicCallback, run_in_executor};
use support::wait::{WAIT, on_own_thread};

#[test]
fn blocking_jobs_never_block_the_loop() {
    on_own_thread(Duration::from_secs(30), || {
        Runtime::new().blocking_threads(4).run(async {
            let ticks = Rc::new(RefCell::new(Vec::<Instant>::new()));
            let ticker = {
                let ticks = ticks.clone();
                PeriodicCallback::new(
                    move || ticks.borrow_mut().push(Instant::now()),
                    Duration::from_millis(10),
                )
            };
            ticker.start().unwrap();
            let loop_thread = thread::current().id();
            let started = Instant::now();

            let jobs = (0..4u64).map(|job| {
                run_in_executor(move || {
                    thread::sleep(Duration::from_millis(200));
                    (job * 10, thread::current().id())
                })
            });
            let results = tokio::time::timeout(WAIT, futures::future::join_all(jobs))
                .await
                .unwrap();
            let elapsed = started.elapsed();
            ticker.stop();

            for (job, result) in results.into_iter().enumerate() {
                let (value, ran_on) = result.unwrap();
                assert_eq!(value, job as u64 * 10);
                assert_ne!(ran_on, loop_thread, "a blocking job ran on the loop");
            }
            let ticks = ticks.borrow();
            assert!(
                ticks.len() >= 10,
                "{} ticks of a 10 ms timer in {elapsed:?}",
                ticks.len()
            );
            let widest_gap = ticks
                .windows(2)
                .map(|pair| pair[1] - pair[0])
                .max()
                .unwrap();
            assert!(
                widest_gap < Duration::from_millis(100),
                "the loop stalled for {widest_gap:?}"
            );
        })
    });
}

#[test]
fn a_full_pool_refuses_jobs_at_once() {
    on_own_thread(Duration::from_secs(30), || {
        cyclone::run(async {
            let pool = BlockingPool::new(1, 2).unwrap();
            assert_eq!((pool.threads(), pool.queue_limit()), (1, 2));
            let (release, released) = mpsc::channel::<()>();
            let (started, job_started) = mpsc::channel();
            let running = pool.run(move || {
                started.send(()).unwrap();
                released.recv_timeout(WAIT).unwrap();
                "first"
            });
            let queued = pool.run(|| "second");
            assert_eq!(pool.in_flight(), 2);

            let refused = tokio::time::timeout(WAIT, pool.run(|| "third"))
                .await
                .unwrap();
            assert!(
                matches!(refused, Err(ExecutorError::QueueFull { limit: 2 })),
                "{refused:?}"
            );

            // Wait for the first job on a helper thread: this thread drives the System, which
            // must stay free to hand jobs to the pool.
            let waited = tokio::task::spawn_blocking(move || job_started.recv_timeout(WAIT));
            waited.await.unwrap().unwrap();
            release.send(()).unwrap();
            assert_eq!(running.await.unwrap(), "first");
            assert_eq!(queued.await.unwrap(), "second");
            assert_eq!(pool.in_flight(), 0);
            assert_eq!(pool.run(|| "fourth").await.unwrap(), "fourth");
        })
    });
}

#[test]
fn runtime_settings_shape_the_default_pool() {
    on_own_thread(Duration::from_secs(30), || {
        Runtime::new()
            .blocking_threads(1)
            .executor_queue_limit(1)
            .run(async {
                let (release, released) = mpsc::channel::<()>();
                let first = run_in_executor(move || released.recv_timeout(WAIT).is_ok());
                let refused = run_in_executor(|| ()).await;
                assert!(
                    matches!(refused, Err(ExecutorError::QueueFull { limit: 1 })),
                    "{refused:?}"
                );
                release.send(()).unwrap();
                assert!(first.await.unwrap());
                assert!(run_in_executor(|| true).await.unwrap());
            })
    });
}

#[test]
fn a_panicking_job_reports_panicked_and_its_worker_lives_on() {
    on_own_thread(Duration::from_secs(30), || {
        cyclone::run(async {
            let pool = BlockingPool::new(1, 4).unwrap();
            let worker = pool.run(|| thread::current().id()).await.unwrap();
            match pool.run(|| -> u8 { panic!("job-boom") }).await {
                Err(ExecutorError::Panicked(message)) => assert!(message.contains("job-boom")),
                other => panic!("expected Panicked, got {other:?}"),
            }
            let after = pool.run(|| thread::current().id()).await.unwrap();
            assert_eq!(
                after, worker,
                "the one worker thread did not survive the panic"
            );

            match run_in_executor(|| -> u8 { panic!("default-boom") }).await {
                Err(ExecutorError::Panicked(message)) => {
                    assert!(message.contains("default-boom"))
                }
                other => panic!("expected Panicked, got {other:?}"),
            }
            assert_eq!(run_in_executor(|| 5).await.unwrap(), 5);
        })
    });
}

#[test]
fn a_job_whose_caller_gave_up_before_it_started_is_skipped() {
    on_own_thread(Duration::from_secs(30), || {
        cyclone::run(async {
            let pool = BlockingPool::new(1, 4).unwrap();
            let (release, released) = mpsc::channel::<()>();
            let blocker = pool.run(move || released.recv_timeout(WAIT).is_ok());
            let ran = Arc::new(AtomicBool::new(false));
            let abandoned = {
                let ran = ran.clone();
                pool.run(move || ran.store(true, Ordering::SeqCst))
            };
            drop(abandoned);
            release.send(()).unwrap();
            assert!(blocker.await.unwrap());
            pool.run(|| ()).await.unwrap();
            assert!(!ran.load(Ordering::SeqCst), "an abandoned job ran");
        })
    });
}

#[test]
fn run_in_executor_on_another_loop_comes_back_to_that_loop() {
    on_own_thread(Duration::from_secs(30), || {
        cyclone::run(async {
            let io_loop = IoLoop::new().unwrap();
            let (reply, answer) = tokio::sync::oneshot::channel();
            io_loop
                .spawn_callback(move || async move {
                    let here = IoLoop::current();
                    let value = here.run_in_executor(|| 21 * 2).await;
                    let _ = reply.send((value.ok(), here.is_current()));
                })
                .unwrap();
            let (value, back_on_loop) = tokio::time::timeout(WAIT, answer).await.unwrap().unwrap();
            assert_eq!(value, Some(42));
            assert!(back_on_loop);
            io_loop.stop();
        })
    });
}

#[test]
fn outside_a_system_there_is_no_default_pool() {
    on_own_thread(Duration::from_secs(30), || {
        let outcome = futures::executor::block_on(run_in_executor(|| 1));
        assert!(
            matches!(outcome, Err(ExecutorError::NoSystem)),
            "{outcome:?}"
        );
        assert!(matches!(
            BlockingPool::new(1, 1),
            Err(ExecutorError::NoSystem)
        ));
    });
}

#[test]
fn jobs_do_not_wait_for_the_thread_that_created_the_pool() {
    on_own_thread(Duration::from_secs(30), || {
        cyclone::run(async {
            // The pool is created here, on the System's first loop...
            let pool = BlockingPool::new(2, 16).unwrap();
            let io_loop = IoLoop::new().unwrap();
            let (reply, answer) = mpsc::channel();
            io_loop
                .spawn_callback(move || async move {
                    let value = pool.run(|| 6 * 7).await;
                    let _ = reply.send(value.ok());
                })
                .unwrap();
            // ...and that loop is now blocked: a job submitted from another loop must still
            // reach a worker and come back.
            let value = answer.recv_timeout(WAIT);
            assert_eq!(value, Ok(Some(42)));
            io_loop.stop();
        })
    });
}
