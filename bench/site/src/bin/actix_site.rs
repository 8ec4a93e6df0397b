//! The actix-web peer, written as its users write it: an askama template compiled in,
//! `web::block` for SQLite, actix-files for `/static/`. `/fortunes-minijinja` is the same page
//! rendered at run time by minijinja from the same template files, as an actix-web user who
//! picked minijinja writes it (one `Environment` in the app data, a path loader): the engine
//! cyclone's templates run on, so the ratio is the frameworks' with cyclone's engine on both.
//! `--port`, `--db`, `--static`, `--workers` (1).

use std::path::PathBuf;

use actix_web::{App, HttpResponse, HttpServer, get, web};
use askama::Template;
use cyclone_site_bench::{FortunesPage, flag, fortunes};
use minijinja::{Environment, context};

#[get("/fortunes")]
async fn fortunes_page(database: web::Data<PathBuf>) -> actix_web::Result<HttpResponse> {
    let database = database.into_inner();
    let fortunes = web::block(move || fortunes(&database))
        .await?
        .map_err(actix_web::error::ErrorInternalServerError)?;
    let body = FortunesPage { fortunes }
        .render()
        .map_err(actix_web::error::ErrorInternalServerError)?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(body))
}

#[get("/fortunes-minijinja")]
async fn fortunes_minijinja(
    database: web::Data<PathBuf>,
    templates: web::Data<Environment<'static>>,
) -> actix_web::Result<HttpResponse> {
    let database = database.into_inner();
    let fortunes = web::block(move || fortunes(&database))
        .await?
        .map_err(actix_web::error::ErrorInternalServerError)?;
    let body = templates
        .get_template("fortunes.html")
        .and_then(|template| template.render(context! { fortunes }))
        .map_err(actix_web::error::ErrorInternalServerError)?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(body))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = flag("--port").unwrap_or(8080);
    let database: PathBuf = flag("--db").unwrap_or_else(|| "fortunes.db".into());
    let static_dir: PathBuf = flag("--static").unwrap_or_else(|| "static".into());
    let workers: usize = flag("--workers").unwrap_or(1);
    let database = web::Data::new(database);
    let mut environment = Environment::new();
    environment.set_loader(minijinja::path_loader(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("templates"),
    ));
    let templates = web::Data::new(environment);
    HttpServer::new(move || {
        App::new()
            .app_data(database.clone())
            .app_data(templates.clone())
            .service(fortunes_page)
            .service(fortunes_minijinja)
            .service(actix_files::Files::new("/static", static_dir.clone()))
    })
    .workers(workers)
    .bind(("127.0.0.1", port))?
    .run()
    .await
}
