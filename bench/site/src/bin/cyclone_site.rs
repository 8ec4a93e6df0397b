//! The cyclone server: `/fortunes` rendered through the layout template by minijinja (cyclone's
//! engine), `/fortunes-askama` the same page from the askama template the actix-web peer
//! compiles in (the framework's cost without the engine's), `/static/` from `--static DIR`.
//! `--port`, `--db`, `--workers` (1).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use askama::Template;
use cyclone::httpserver::HttpServer;
use cyclone::ioloop::run_in_executor;
use cyclone::template::{TemplateLoader, context};
use cyclone::web::{
    Application, HttpError, RequestContext, RequestHandler, Settings, handler_with, url,
};
use cyclone_site_bench::{Fortune, FortunesPage, flag, fortunes};

/// The rows, read on the blocking pool.
async fn load(database: &Arc<PathBuf>) -> Result<Vec<Fortune>, HttpError> {
    let database = database.clone();
    run_in_executor(move || fortunes(&database))
        .await
        .map_err(HttpError::internal)?
        .map_err(HttpError::internal)
}

/// The fortunes page.
struct Fortunes {
    /// The SQLite file.
    database: Arc<PathBuf>,
}

impl RequestHandler for Fortunes {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        let fortunes = load(&self.database).await?;
        cx.render("fortunes.html", context! { fortunes }).await
    }
}

/// The same page through askama: what a cyclone user with a compiled-in template writes.
struct AskamaFortunes {
    /// The SQLite file.
    database: Arc<PathBuf>,
}

impl RequestHandler for AskamaFortunes {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        let fortunes = load(&self.database).await?;
        let page = FortunesPage { fortunes }
            .render()
            .map_err(HttpError::internal)?;
        cx.write(page);
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = flag("--port").unwrap_or(8080);
    let database: PathBuf = flag("--db").unwrap_or_else(|| "fortunes.db".into());
    let static_dir: PathBuf = flag("--static").unwrap_or_else(|| "static".into());
    let workers: usize = flag("--workers").unwrap_or(1);
    let templates = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("templates");
    let database = Arc::new(database);
    cyclone::run(async move {
        let settings = Settings::default()
            .template_loader(TemplateLoader::new(templates))
            .static_path(static_dir);
        let askama_database = database.clone();
        let app = Application::with_settings(
            [
                url(
                    "/fortunes",
                    handler_with(move || Fortunes {
                        database: database.clone(),
                    }),
                ),
                url(
                    "/fortunes-askama",
                    handler_with(move || AskamaFortunes {
                        database: askama_database.clone(),
                    }),
                ),
            ],
            settings,
        )?;
        let mut server = HttpServer::new(app);
        server.bind(port, Some("127.0.0.1"))?;
        server.start(workers)?;
        server.serve_until_signal(Duration::from_secs(2)).await?;
        Ok(())
    })
}
