//! Resolvers: IP literals, getaddrinfo on the blocking pool, and Tornado's OverrideResolver.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use cyclone::netutil::{DefaultResolver, OverrideResolver, ResolveError, Resolver};
// `Family` is taken from the tcpclient facade: netutil also has a `Family` (for bind_sockets)
// until the two are merged, and a glob re-export of both is ambiguous.
use cyclone::netutil::Family;
use support::wait::{WAIT, bounded};

async fn resolve(
    resolver: &dyn Resolver,
    host: &str,
    port: u16,
    family: Family,
) -> Result<Vec<SocketAddr>, ResolveError> {
    bounded(resolver.resolve(host, port, family)).await
}

fn addr(text: &str) -> SocketAddr {
    text.parse().unwrap()
}

#[actix_rt::test]
async fn ip_literals_resolve_to_themselves() {
    let resolver = DefaultResolver::new();
    assert_eq!(
        resolve(&resolver, "127.0.0.1", 80, Family::Unspec)
            .await
            .unwrap(),
        vec![addr("127.0.0.1:80")]
    );
    assert_eq!(
        resolve(&resolver, "::1", 443, Family::Unspec)
            .await
            .unwrap(),
        vec![addr("[::1]:443")]
    );
    assert_eq!(
        resolve(&resolver, "[::1]", 8080, Family::V6).await.unwrap(),
        vec![addr("[::1]:8080")]
    );
}

#[actix_rt::test]
async fn ip_literal_of_the_wrong_family_is_not_found() {
    let resolver = DefaultResolver::new();
    match resolve(&resolver, "127.0.0.1", 80, Family::V6).await {
        Err(ResolveError::NotFound { host, port, family }) => {
            assert_eq!((host.as_str(), port, family), ("127.0.0.1", 80, Family::V6));
        }
        other => panic!("expected NotFound, got {other:?}"),
    }
    assert!(matches!(
        resolve(&resolver, "::1", 80, Family::V4).await,
        Err(ResolveError::NotFound { .. })
    ));
}

#[actix_rt::test]
async fn localhost_resolves_on_the_blocking_pool() {
    let resolver = DefaultResolver::new();
    let found = resolve(&resolver, "localhost", 8888, Family::Unspec)
        .await
        .unwrap();
    assert!(!found.is_empty());
    assert!(
        found
            .iter()
            .all(|a| a.ip().is_loopback() && a.port() == 8888),
        "localhost gave {found:?}"
    );
    let mut deduplicated = found.clone();
    deduplicated.dedup();
    assert_eq!(found.len(), deduplicated.len(), "duplicates in {found:?}");
}

#[actix_rt::test]
async fn family_filters_what_the_system_answers() {
    let resolver = DefaultResolver::new();
    let found = resolve(&resolver, "localhost", 80, Family::V4)
        .await
        .unwrap();
    assert!(found.contains(&addr("127.0.0.1:80")), "got {found:?}");
    assert!(found.iter().all(|a| a.is_ipv4()), "got {found:?}");
}

#[actix_rt::test]
async fn a_lookup_past_its_limit_times_out() {
    // Occupy every worker of the pool so the lookup waits in its queue past the limit.
    let pool = cyclone::ioloop::default_pool().unwrap();
    let mut releases = Vec::new();
    let mut occupied = Vec::new();
    for _ in 0..pool.threads() {
        let (release, wait) = std::sync::mpsc::channel::<()>();
        releases.push(release);
        occupied.push(pool.run(move || {
            let _ = wait.recv_timeout(WAIT);
        }));
    }
    let resolver = DefaultResolver::new().timeout(Duration::from_millis(200));
    let outcome = resolve(&resolver, "localhost", 80, Family::Unspec).await;
    drop(releases);
    for job in occupied {
        job.await.unwrap();
    }
    match outcome {
        Err(ResolveError::Timeout { host, after, .. }) => {
            assert_eq!(
                (host.as_str(), after),
                ("localhost", Duration::from_millis(200))
            );
        }
        other => panic!("expected a Timeout, got {other:?}"),
    }
}

#[actix_rt::test]
async fn override_by_host_keeps_the_port() {
    let resolver = OverrideResolver::new().map_host("example.test", "127.0.0.1");
    assert_eq!(
        resolve(&resolver, "example.test", 1234, Family::Unspec)
            .await
            .unwrap(),
        vec![addr("127.0.0.1:1234")]
    );
}

#[actix_rt::test]
async fn the_most_specific_override_wins() {
    let resolver = OverrideResolver::new()
        .map_host("example.test", "127.0.0.1")
        .map_host_port("example.test", 80, "127.0.0.2", 8080)
        .map_host_port_family("example.test", 80, Family::V6, "::1", 8443);
    assert_eq!(
        resolve(&resolver, "example.test", 80, Family::V6)
            .await
            .unwrap(),
        vec![addr("[::1]:8443")]
    );
    assert_eq!(
        resolve(&resolver, "example.test", 80, Family::Unspec)
            .await
            .unwrap(),
        vec![addr("127.0.0.2:8080")]
    );
    assert_eq!(
        resolve(&resolver, "example.test", 81, Family::Unspec)
            .await
            .unwrap(),
        vec![addr("127.0.0.1:81")]
    );
    assert_eq!(
        resolver.rewrite("example.test", 80, Family::V4),
        ("127.0.0.2".to_owned(), 8080)
    );
}

#[actix_rt::test]
async fn unmapped_names_pass_through_to_the_inner_resolver() {
    let resolver = OverrideResolver::wrapping(DefaultResolver::new()).map_host("a.test", "::1");
    assert_eq!(
        resolve(&resolver, "127.0.0.3", 9, Family::Unspec)
            .await
            .unwrap(),
        vec![addr("127.0.0.3:9")]
    );
    assert_eq!(
        resolve(&resolver, "localhost", 9, Family::V4)
            .await
            .unwrap()[0],
        addr("127.0.0.1:9")
    );
}

#[actix_rt::test]
async fn overrides_respect_the_family_of_the_target() {
    let resolver = OverrideResolver::new().map_host("v6only.test", "::1");
    assert!(matches!(
        resolve(&resolver, "v6only.test", 80, Family::V4).await,
        Err(ResolveError::NotFound { .. })
    ));
}

#[test]
fn family_of_an_address() {
    assert_eq!(Family::of(&addr("127.0.0.1:1")), Family::V4);
    assert_eq!(Family::of(&addr("[::1]:1")), Family::V6);
    assert!(Family::Unspec.admits(&addr("[::1]:1")));
    assert!(!Family::V4.admits(&addr("[::1]:1")));
    assert_eq!(Family::default(), Family::Unspec);
}
