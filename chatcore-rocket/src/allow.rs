//! 405 `method_not_allowed` (with `Allow`) and `OPTIONS` for chatcore's paths.
//!
//! Rocket answers a known path with an unknown method by 404. chatcore adds,
//! for every path it serves, low-ranked routes for the other methods that
//! answer 405 with the allowed ones (`TRACE` and `CONNECT` too, and `HEAD`
//! where there is no `GET` to answer it), and an `OPTIONS` route answering
//! 204 (which also serves CORS preflights). A method Rocket does not know at
//! all (`QUERY`, ...) never reaches a route: the 400 catcher answers it with
//! the same 405 ([`ApiPaths::allow`]). The table comes from the real routes,
//! so it cannot drift from them.

use rocket::http::{Method, Status};
use rocket::outcome::Outcome;
use rocket::request::Request;
use rocket::response::Response;
use rocket::route::{self, Handler, Route};
use rocket::Data;

use crate::error::ApiError;

/// Lowest rank of the 405 / OPTIONS routes: after every normal route (and
/// after a `FileServer`, whose default rank is 10). A route of a path with
/// dynamic segments is ranked one lower per segment.
pub const FALLBACK_RANK: isize = 100;

const METHODS: [Method; 5] = [
    Method::Get,
    Method::Post,
    Method::Put,
    Method::Patch,
    Method::Delete,
];

/// The methods served on one path.
#[derive(Clone, Debug)]
pub(crate) struct PathMethods {
    /// Unmounted Rocket pattern, e.g. `/chat/sessions/<session_id>`.
    pub(crate) path: String,
    /// Methods with a route, in the order of [`METHODS`].
    pub(crate) methods: Vec<Method>,
}

impl PathMethods {
    pub(crate) fn allow(&self) -> String {
        self.methods
            .iter()
            .map(|m| m.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Groups routes by path, keeping the first-seen order of paths.
pub(crate) fn group(routes: &[Route]) -> Vec<PathMethods> {
    let mut groups: Vec<PathMethods> = Vec::new();
    for route in routes {
        let path = route.uri.path().to_owned();
        let index = match groups.iter().position(|g| g.path == path) {
            Some(index) => index,
            None => {
                groups.push(PathMethods {
                    path,
                    methods: Vec::new(),
                });
                groups.len() - 1
            }
        };
        let methods = &mut groups[index].methods;
        if !methods.contains(&route.method) {
            methods.push(route.method);
        }
    }
    for group in &mut groups {
        group
            .methods
            .sort_by_key(|m| METHODS.iter().position(|x| x == m).unwrap_or(METHODS.len()));
    }
    groups
}

/// The rank of the 405 / OPTIONS routes of `path`: [`FALLBACK_RANK`] plus
/// its number of dynamic segments, so that a static path and a dynamic one
/// that both match a URI (`/users/search`, `/users/<user_id>`) do not
/// collide, and the more specific one answers.
fn fallback_rank(path: &str) -> isize {
    let dynamic = path.split('/').filter(|s| is_dynamic(s)).count();
    FALLBACK_RANK + dynamic as isize
}

/// The 405 and OPTIONS routes for `groups`.
pub(crate) fn fallback_routes(groups: &[PathMethods]) -> Vec<Route> {
    let mut routes = Vec::new();
    for group in groups {
        let allow = group.allow();
        let rank = fallback_rank(&group.path);
        // Rocket answers HEAD with the GET route when there is one.
        let head = (!group.methods.contains(&Method::Get)).then_some(Method::Head);
        let others = METHODS
            .into_iter()
            .chain([Method::Trace, Method::Connect])
            .chain(head);
        for method in others {
            if !group.methods.contains(&method) {
                let handler = Answer {
                    allow: allow.clone(),
                    options: false,
                };
                routes.push(Route::ranked(rank, method, &group.path, handler));
            }
        }
        let handler = Answer {
            allow: format!("{allow}, OPTIONS"),
            options: true,
        };
        routes.push(Route::ranked(rank, Method::Options, &group.path, handler));
    }
    routes
}

#[derive(Clone)]
struct Answer {
    allow: String,
    options: bool,
}

#[rocket::async_trait]
impl Handler for Answer {
    async fn handle<'r>(&self, req: &'r Request<'_>, _data: Data<'r>) -> route::Outcome<'r> {
        if self.options {
            let response = Response::build()
                .status(Status::NoContent)
                .raw_header("Allow", self.allow.clone())
                .finalize();
            return Outcome::Success(response);
        }
        route::Outcome::from(req, not_allowed(req.method().as_str(), &self.allow))
    }
}

/// 405 `method_not_allowed` with `Allow`.
pub(crate) fn not_allowed(method: &str, allow: &str) -> ApiError {
    let mut error = ApiError::new(
        Status::MethodNotAllowed,
        "method_not_allowed",
        format!("{method} is not allowed here (allowed: {allow})"),
    );
    error.allow = Some(allow.to_owned());
    error
}

/// The paths chatcore serves, for an application that needs to tell API
/// requests from its own (e.g. an SPA fallback that must not answer API
/// paths with `index.html`). Managed by [`crate::Chatcore::attach`]; read it
/// with `rocket.state::<ApiPaths>()`.
#[derive(Clone, Debug)]
pub struct ApiPaths {
    patterns: Vec<(Vec<String>, Vec<Method>)>,
}

fn is_dynamic(segment: &str) -> bool {
    segment.starts_with('<') && segment.ends_with('>')
}

fn segments(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

impl ApiPaths {
    pub(crate) fn new(base: &str, groups: &[PathMethods]) -> Self {
        let base = segments(base);
        let patterns = groups
            .iter()
            .map(|g| {
                let pattern = base.iter().cloned().chain(segments(&g.path)).collect();
                (pattern, g.methods.clone())
            })
            .collect();
        ApiPaths { patterns }
    }

    fn find(&self, path: &str) -> impl Iterator<Item = &(Vec<String>, Vec<Method>)> {
        let parts = segments(path);
        self.patterns.iter().filter(move |(pattern, _)| {
            pattern.len() == parts.len()
                && pattern
                    .iter()
                    .zip(&parts)
                    .all(|(p, s)| is_dynamic(p) || p == s)
        })
    }

    /// The `Allow` value of a 405 on `path` (its methods, as the 405 routes
    /// give it), when it is one of chatcore's paths.
    pub fn allow(&self, path: &str) -> Option<String> {
        // The most specific path answers, as the ranked 405 routes do.
        let (_, methods) = self
            .find(path)
            .min_by_key(|(pattern, _)| pattern.iter().filter(|p| is_dynamic(p)).count())?;
        let methods: Vec<&str> = methods.iter().map(|m| m.as_str()).collect();
        (!methods.is_empty()).then(|| methods.join(", "))
    }

    /// Whether `path` (absolute, without query) is one of chatcore's routes,
    /// whatever the method.
    pub fn matches(&self, path: &str) -> bool {
        self.find(path).next().is_some()
    }

    /// Whether chatcore has a `method` route for `path` (e.g. an SPA
    /// fallback may answer a browser's `GET /auth/login` page load, which
    /// the API only knows as `POST`).
    pub fn allows(&self, method: Method, path: &str) -> bool {
        self.find(path)
            .any(|(_, methods)| methods.contains(&method))
    }
}
