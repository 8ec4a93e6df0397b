//! Routing cost with a 500-rule table: a literal hit (one hash lookup whatever the table's
//! size), a regex rule behind 250 literal rules, and a miss. Run with
//! `cargo bench -p cyclone-web --bench routing`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use cyclone_protocol::server::HttpResponse;
use cyclone_web::{Router, Rule, function, url};

fn table() -> Router {
    let target = function(|_, _| async { HttpResponse::ok() });
    let mut rules: Vec<Rule> = Vec::new();
    for index in 0..250 {
        rules.push(url(format!("/static/page{index}"), target.clone()));
    }
    for index in 0..250 {
        rules.push(url(
            format!(r"/api/v{index}/items/([0-9]+)"),
            target.clone(),
        ));
    }
    Router::new(rules).expect("valid patterns")
}

fn routing(c: &mut Criterion) {
    let router = table();
    c.bench_function("literal hit (last literal of 250)", |b| {
        b.iter(|| router.matches(black_box("/static/page249")))
    });
    c.bench_function("regex hit (rule 500 of 500)", |b| {
        b.iter(|| router.matches(black_box("/api/v249/items/42")))
    });
    c.bench_function("miss", |b| b.iter(|| router.matches(black_box("/nowhere"))));
}

criterion_group!(benches, routing);
criterion_main!(benches);
