//! What it costs to hand a message to an actor on the same loop: a local actor's direct call
//! (`LocalAddr::deliver`, the actor idle), a local actor's queued delivery (the actor busy, the
//! driver runs it), and actix's mailbox (`Addr::send`, a scheduler round trip), against a plain
//! method call. `cargo bench -p cyclone-actors --bench local_delivery`; the instruction counts
//! behind the same paths are in docs/performance.md (callgrind).

use std::time::{Duration, Instant};

use actix::prelude::*;
use criterion::{Criterion, criterion_group, criterion_main};
use cyclone_actors::local::{LocalAddr, LocalContext};

/// Counts; the message carries a payload like a request message's size class.
#[derive(Default)]
struct Counter {
    total: u64,
}

#[derive(Message)]
#[rtype(result = "()")]
struct Add(u64);

/// The same actor on actix's own context, for the mailbox path.
#[derive(Default)]
struct MailboxCounter {
    total: u64,
}

impl Actor for Counter {
    type Context = LocalContext<Self>;
}

impl Handler<Add> for Counter {
    type Result = ();
    fn handle(&mut self, Add(n): Add, _: &mut LocalContext<Self>) {
        self.total = self.total.wrapping_add(n);
    }
}

impl Actor for MailboxCounter {
    type Context = Context<Self>;
}

impl Handler<Add> for MailboxCounter {
    type Result = ();
    fn handle(&mut self, Add(n): Add, _: &mut Context<Self>) {
        self.total = self.total.wrapping_add(n);
    }
}

/// Asks for the total, so a batch of `do_send`s is known to be handled.
#[derive(Message)]
#[rtype(result = "u64")]
struct Total;

impl Handler<Total> for MailboxCounter {
    type Result = u64;
    fn handle(&mut self, _: Total, _: &mut Context<Self>) -> u64 {
        self.total
    }
}

impl Handler<Total> for Counter {
    type Result = u64;
    fn handle(&mut self, _: Total, _: &mut LocalContext<Self>) -> u64 {
        self.total
    }
}

fn delivery(c: &mut Criterion) {
    let system = System::new();
    let mut group = c.benchmark_group("same-loop delivery");
    group.measurement_time(Duration::from_secs(3));

    group.bench_function("plain method call", |b| {
        let mut counter = Counter::default();
        b.iter(|| {
            counter.total = counter.total.wrapping_add(std::hint::black_box(1));
        });
    });

    let local = system.block_on(async { LocalAddr::start(Counter::default()) });
    group.bench_function("LocalAddr::deliver (idle actor: a direct call)", |b| {
        b.iter(|| local.deliver(Add(std::hint::black_box(1))));
    });

    let mailbox = system.block_on(async { MailboxCounter::default().start() });
    group.bench_function("Addr::do_send + handled (actix mailbox, same loop)", |b| {
        b.iter_custom(|iters| {
            system.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    mailbox.do_send(Add(1));
                }
                // Handled once the mailbox answers a message sent after them.
                let _ = mailbox.send(Total).await;
                start.elapsed()
            })
        });
    });

    group.bench_function("Addr::send().await (actix request-reply, same loop)", |b| {
        b.iter_custom(|iters| {
            system.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let _ = mailbox.send(Add(1)).await;
                }
                start.elapsed()
            })
        });
    });
    group.finish();
}

criterion_group!(benches, delivery);
criterion_main!(benches);
