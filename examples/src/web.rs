//! Static files of the web UI at `/`, with an SPA fallback so that a reload
//! of a UI page (`/chat/<id>`, `/auth/login`) serves `index.html`.
//!
//! The fallback answers only browser navigations (`Accept` names
//! `text/html`) of `GET` requests that chatcore has no `GET` route for; every
//! other request falls through to chatcore, so API clients keep their JSON
//! 404s and 405s (`GET /auth/login` with `Accept: application/json` is 405).

use std::path::{Path, PathBuf};

use chatcore_rocket::ApiPaths;
use rocket::fs::{FileServer, NamedFile};
use rocket::http::{Method, Status};
use rocket::outcome::Outcome;
use rocket::route::{self, Handler, Route};
use rocket::{Build, Data, Request, Rocket};

/// Rank of the file server: after the API's routes (negative ranks), before
/// the 405 fallbacks ([`chatcore_rocket::FALLBACK_RANK`]).
pub const FILES_RANK: isize = 10;
/// Rank of the SPA fallback: after the files, before chatcore's 405 routes
/// ([`chatcore_rocket::FALLBACK_RANK`]), so a page load of `/auth/login`
/// (a UI route; `POST`-only in the API) gets the UI.
pub const SPA_RANK: isize = 50;

/// Serves `dir` at `/`: its files, then `index.html` for HTML navigations.
pub fn mount(rocket: Rocket<Build>, dir: &Path) -> Rocket<Build> {
    let fallback = Route::ranked(
        SPA_RANK,
        Method::Get,
        "/<path..>",
        SpaFallback {
            index: dir.join("index.html"),
        },
    );
    rocket
        .mount("/", FileServer::from(dir).rank(FILES_RANK))
        .mount("/", vec![fallback])
}

/// Whether `dir` looks like a built UI.
pub fn is_ui_dir(dir: &Path) -> bool {
    dir.join("index.html").is_file()
}

#[derive(Clone)]
struct SpaFallback {
    index: PathBuf,
}

fn wants_html(req: &Request<'_>) -> bool {
    req.headers()
        .get("Accept")
        .any(|accept| accept.contains("text/html"))
}

#[rocket::async_trait]
impl Handler for SpaFallback {
    async fn handle<'r>(&self, req: &'r Request<'_>, data: Data<'r>) -> route::Outcome<'r> {
        let path = req.uri().path();
        let api_get = req
            .rocket()
            .state::<ApiPaths>()
            .is_some_and(|paths| paths.allows(Method::Get, path.as_str()));
        if api_get || !wants_html(req) {
            return Outcome::Forward((data, Status::NotFound));
        }
        match NamedFile::open(&self.index).await {
            Ok(file) => route::Outcome::from(req, file),
            Err(_) => Outcome::Forward((data, Status::NotFound)),
        }
    }
}
