//! `PeriodicCallback`: fires about every period, stops, skips missed runs instead of bursting.
//! Real timers; the tolerances are wide because the machine is shared.

mod support;

use std::{
    cell::{Cell, RefCell},
    rc::Rc,
    thread,
    time::{Duration, Instant},
};

use cyclone::ioloop::{LoopError, PeriodicCallback};
use support::wait::{self, on_own_thread};

/// A counter and a callback that bumps it.
fn counter() -> (Rc<Cell<usize>>, impl FnMut() + 'static) {
    let count = Rc::new(Cell::new(0));
    let bump = count.clone();
    (count, move || bump.set(bump.get() + 1))
}

async fn sleep_ms(millis: u64) {
    tokio::time::sleep(Duration::from_millis(millis)).await;
}

#[test]
fn fires_about_every_period_and_stop_stops_it() {
    on_own_thread(Duration::from_secs(30), || {
        cyclone::run(async {
            let (count, bump) = counter();
            let periodic = PeriodicCallback::new(bump, Duration::from_millis(20));
            assert!(!periodic.is_running());
            periodic.start().unwrap();
            assert!(periodic.is_running());
            sleep_ms(300).await;
            periodic.stop();
            assert!(!periodic.is_running());
            let fired = count.get();
            // 15 on an idle machine; missed runs are skipped, so never more than 300/20 + 1.
            assert!((5..=16).contains(&fired), "fired {fired} times in 300 ms");

            wait::holds_for(Duration::from_millis(100), "ran after stop()", || {
                count.get() == fired
            })
            .await;
        })
    });
}

#[test]
fn starting_twice_does_not_double_the_rate() {
    on_own_thread(Duration::from_secs(30), || {
        cyclone::run(async {
            let (count, bump) = counter();
            let periodic = PeriodicCallback::new(bump, Duration::from_millis(20));
            periodic.start().unwrap();
            periodic.start().unwrap();
            sleep_ms(200).await;
            periodic.stop();
            assert!(count.get() <= 11, "fired {} times in 200 ms", count.get());

            // Restarting after a stop works.
            let before = count.get();
            periodic.start().unwrap();
            wait::until("it fires after a restart", || count.get() > before).await;
            periodic.stop();
        })
    });
}

#[test]
fn stop_from_inside_the_callback_stops_after_that_run() {
    on_own_thread(Duration::from_secs(30), || {
        cyclone::run(async {
            let count = Rc::new(Cell::new(0));
            let handle = Rc::new(RefCell::new(None::<cyclone::ioloop::WeakPeriodicCallback>));
            let periodic = {
                let count = count.clone();
                let handle = handle.clone();
                PeriodicCallback::new(
                    move || {
                        count.set(count.get() + 1);
                        if count.get() == 3
                            && let Some(periodic) = handle.borrow().as_ref()
                        {
                            periodic.stop();
                        }
                    },
                    Duration::from_millis(10),
                )
            };
            *handle.borrow_mut() = Some(periodic.downgrade());
            periodic.start().unwrap();
            wait::until("the callback stops its schedule", || !periodic.is_running()).await;
            assert_eq!(count.get(), 3);
            // Five more periods: no run after the one that stopped it.
            wait::holds_for(
                Duration::from_millis(50),
                "ran after stopping itself",
                || count.get() == 3,
            )
            .await;
        })
    });
}

#[test]
fn a_slow_run_skips_the_missed_runs_instead_of_bursting() {
    on_own_thread(Duration::from_secs(30), || {
        cyclone::run(async {
            let starts = Rc::new(RefCell::new(Vec::<Instant>::new()));
            let slow_run_ended = Rc::new(Cell::new(None::<Instant>));
            let periodic = {
                let starts = starts.clone();
                let slow_run_ended = slow_run_ended.clone();
                PeriodicCallback::new(
                    move || {
                        starts.borrow_mut().push(Instant::now());
                        if starts.borrow().len() == 2 {
                            // Blocks the loop for ten periods.
                            thread::sleep(Duration::from_millis(200));
                            slow_run_ended.set(Some(Instant::now()));
                        }
                    },
                    Duration::from_millis(20),
                )
            };
            periodic.start().unwrap();
            sleep_ms(500).await;
            periodic.stop();

            let ended = slow_run_ended.get().expect("the slow run happened");
            let soon_after = starts
                .borrow()
                .iter()
                .filter(|start| **start >= ended && **start < ended + Duration::from_millis(30))
                .count();
            // Catching up would start about ten runs right away; skipping starts at most two.
            assert!(
                soon_after <= 2,
                "{soon_after} runs started within 30 ms of a slow run"
            );
            assert!(
                starts.borrow().len() > 3,
                "the schedule went on after the slow run"
            );
        })
    });
}

#[test]
fn a_panicking_callback_is_logged_and_keeps_its_schedule() {
    on_own_thread(Duration::from_secs(30), || {
        cyclone::run(async {
            let count = Rc::new(Cell::new(0));
            let seen = count.clone();
            let periodic = PeriodicCallback::new(
                move || {
                    seen.set(seen.get() + 1);
                    if seen.get() == 1 {
                        panic!("periodic-boom");
                    }
                },
                Duration::from_millis(10),
            );
            periodic.start().unwrap();
            // The panic hook may print a backtrace on the loop thread, which takes a while on
            // a busy machine: wait for the later runs rather than for a fixed time.
            wait::until("two runs after the panicking one", || count.get() >= 3).await;
            periodic.stop();
        })
    });
}

#[test]
fn jitter_keeps_roughly_the_period() {
    on_own_thread(Duration::from_secs(30), || {
        cyclone::run(async {
            let (count, bump) = counter();
            let periodic = PeriodicCallback::new(bump, Duration::from_millis(20)).with_jitter(0.5);
            periodic.start().unwrap();
            sleep_ms(300).await;
            periodic.stop();
            // Periods between 15 and 25 ms: 12 to 20 runs when idle.
            assert!(
                (4..=21).contains(&count.get()),
                "fired {} times",
                count.get()
            );
        })
    });
}

#[test]
fn an_async_callback_never_overlaps_itself() {
    on_own_thread(Duration::from_secs(30), || {
        cyclone::run(async {
            let active = Rc::new(Cell::new(0));
            let most_active = Rc::new(Cell::new(0));
            let runs = Rc::new(Cell::new(0));
            let periodic = {
                let (active, most_active, runs) =
                    (active.clone(), most_active.clone(), runs.clone());
                PeriodicCallback::new_async(
                    move || {
                        let (active, most_active, runs) =
                            (active.clone(), most_active.clone(), runs.clone());
                        async move {
                            runs.set(runs.get() + 1);
                            active.set(active.get() + 1);
                            most_active.set(most_active.get().max(active.get()));
                            sleep_ms(50).await;
                            active.set(active.get() - 1);
                        }
                    },
                    Duration::from_millis(10),
                )
            };
            periodic.start().unwrap();
            sleep_ms(400).await;
            periodic.stop();
            assert_eq!(most_active.get(), 1, "two runs overlapped");
            assert!(
                (2..=8).contains(&runs.get()),
                "{} runs of a 50 ms job every 10 ms in 400 ms",
                runs.get()
            );
        })
    });
}

#[test]
fn start_outside_a_loop_is_refused() {
    on_own_thread(Duration::from_secs(30), || {
        let periodic = PeriodicCallback::new(|| {}, Duration::from_millis(10));
        assert!(matches!(periodic.start(), Err(LoopError::NotOnLoop)));
        assert!(!periodic.is_running());
    });
}
