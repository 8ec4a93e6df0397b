//! The blog demo in French: the same pages, switched by the browser's `Accept-Language`, from
//! `examples/blog/locale/fr_FR/LC_MESSAGES/blog.po`, over a raw HTTP connection.

mod support;

#[allow(dead_code)] // the example's helpers this test does not call
#[path = "../examples/blog/site/mod.rs"]
mod site;

use std::net::SocketAddr;

use cyclone::testing::TestServer;
use support::raw_http::{Answer, Client};
use support::scratch::fresh_dir;

async fn start(name: &str) -> TestServer {
    let dir = fresh_dir(&format!("blog-locale-{name}"));
    let app = site::application(&site::BlogOptions {
        database: dir.join("blog.db"),
        debug: false,
    })
    .await
    .unwrap();
    TestServer::start(app).unwrap()
}

/// GETs `path` with `Accept-Language: language` (none if empty), on a fresh connection.
async fn get(server: &TestServer, path: &str, language: &str) -> (Answer, String) {
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: blog.test\r\n");
    if !language.is_empty() {
        request.push_str(&format!("Accept-Language: {language}\r\n"));
    }
    request.push_str("\r\n");
    let mut client = Client::connect(SocketAddr::from(([127, 0, 0, 1], server.port()))).await;
    client.send(request.as_bytes()).await;
    let answer = client.answer().await.expect("an answer");
    let page = String::from_utf8_lossy(&answer.body).into_owned();
    (answer, page)
}

#[actix_rt::test]
async fn the_sign_up_page_speaks_the_browsers_language() {
    let server = start("signup").await;

    let (answer, french) = get(&server, "/auth/create", "fr-FR,fr;q=0.9,en;q=0.8").await;
    assert_eq!(answer.status, 200);
    assert!(french.contains("<html lang=\"fr\">"), "{french}");
    assert!(
        french.contains("<title>Créer un compte - Cyclone Blog</title>"),
        "{french}"
    );
    assert!(
        french.contains("<h2>Créer un compte d&#x27;auteur</h2>"),
        "{french}"
    );
    assert!(french.contains("<label>Mot de passe <input"), "{french}");
    assert!(french.contains("value=\"Créer un compte\""), "{french}");
    assert!(
        french.contains("Déjà inscrit ? <a href=\"/auth/login?next=%2F\">Connexion</a>."),
        "{french}"
    );
    // A translated message around markup: the link stays a link, the words are escaped text.
    assert!(
        french.contains(
            "<a href=\"/auth/login?next=%2Fauth%2Fcreate\">Connectez-vous</a> pour écrire ou modifier"
        ),
        "{french}"
    );

    // English is the blog's own language; a language it lacks gets English too.
    for language in ["en-US,en;q=0.9", "de-DE", ""] {
        let (answer, english) = get(&server, "/auth/create", language).await;
        assert_eq!(answer.status, 200);
        assert!(
            english.contains("<html lang=\"en\">"),
            "{language}: {english}"
        );
        assert!(
            english.contains("<h2>Create an author account</h2>"),
            "{language}: {english}"
        );
        assert!(
            english.contains("<label>Password <input"),
            "{language}: {english}"
        );
        assert!(
            english.contains(
                "<a href=\"/auth/login?next=%2Fauth%2Fcreate\">Sign in</a> to compose/edit"
            ),
            "{language}: {english}"
        );
    }

    // The weights decide, not the order: French at 0.9 beats English at 0.5.
    let (_, weighted) = get(&server, "/auth/create", "en;q=0.5, fr-FR;q=0.9").await;
    assert!(
        weighted.contains("<h2>Créer un compte d&#x27;auteur</h2>"),
        "{weighted}"
    );
    // `fr` alone is not `fr_FR` (Tornado matches a bare language only against a locale named
    // so): English.
    let (_, bare) = get(&server, "/auth/create", "fr").await;
    assert!(bare.contains("<h2>Create an author account</h2>"), "{bare}");
    server.stop().await;
}
