//! CORS for a web UI served from another origin. Off unless configured.

use std::time::Duration;

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::Method;
use rocket::{Request, Response};

/// Which origins may call the API from a browser.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AllowedOrigins {
    /// Any origin (echoed back, never `*`, so credentials work too).
    Any,
    /// Exactly these origins (`scheme://host[:port]`, compared case-insensitively).
    List(Vec<String>),
}

/// CORS settings for [`crate::Chatcore::cors`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorsConfig {
    /// Allowed origins.
    pub origins: AllowedOrigins,
    /// Send `Access-Control-Allow-Credentials: true`.
    pub allow_credentials: bool,
    /// How long a browser may cache a preflight answer.
    pub max_age: Duration,
}

impl CorsConfig {
    /// Allows exactly these origins.
    ///
    /// ```
    /// let cors = chatcore_rocket::CorsConfig::origins(["http://localhost:5173"]);
    /// ```
    pub fn origins<I, S>(origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        CorsConfig {
            origins: AllowedOrigins::List(
                origins
                    .into_iter()
                    .map(|o| o.into().trim_end_matches('/').to_owned())
                    .collect(),
            ),
            allow_credentials: false,
            max_age: Duration::from_secs(600),
        }
    }

    /// Allows every origin.
    pub fn any() -> Self {
        CorsConfig {
            origins: AllowedOrigins::Any,
            allow_credentials: false,
            max_age: Duration::from_secs(600),
        }
    }

    /// Parses a comma-separated list (`*` for any); `None` when empty.
    pub fn parse(list: &str) -> Option<Self> {
        let items: Vec<&str> = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if items.is_empty() {
            None
        } else if items.contains(&"*") {
            Some(Self::any())
        } else {
            Some(Self::origins(items))
        }
    }

    /// Sets whether credentials are allowed.
    pub fn with_credentials(mut self, allow: bool) -> Self {
        self.allow_credentials = allow;
        self
    }

    fn allows(&self, origin: &str) -> bool {
        match &self.origins {
            AllowedOrigins::Any => true,
            AllowedOrigins::List(list) => list.iter().any(|o| o.eq_ignore_ascii_case(origin)),
        }
    }
}

/// The CORS fairing, applied to responses under chatcore's base path.
#[derive(Debug)]
pub(crate) struct Cors {
    pub(crate) config: CorsConfig,
    pub(crate) base: String,
}

#[rocket::async_trait]
impl Fairing for Cors {
    fn info(&self) -> Info {
        Info {
            name: "chatcore CORS",
            kind: Kind::Response,
        }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        let path = req.uri().path();
        if !path.as_str().starts_with(self.base.trim_end_matches('/')) {
            return;
        }
        res.adjoin_raw_header("Vary", "Origin");
        let Some(origin) = req.headers().get_one("Origin") else {
            return;
        };
        if !self.config.allows(origin) {
            return;
        }
        res.set_raw_header("Access-Control-Allow-Origin", origin.to_owned());
        if self.config.allow_credentials {
            res.set_raw_header("Access-Control-Allow-Credentials", "true");
        }
        res.set_raw_header(
            "Access-Control-Expose-Headers",
            "Link, Retry-After, X-Request-Id, Allow",
        );
        let preflight = req.method() == Method::Options
            && req
                .headers()
                .get_one("Access-Control-Request-Method")
                .is_some();
        if preflight {
            res.set_raw_header(
                "Access-Control-Allow-Methods",
                "GET, POST, PUT, PATCH, DELETE, OPTIONS",
            );
            let headers = req
                .headers()
                .get_one("Access-Control-Request-Headers")
                .unwrap_or("Authorization, Content-Type, X-Request-Id")
                .to_owned();
            res.set_raw_header("Access-Control-Allow-Headers", headers);
            res.set_raw_header(
                "Access-Control-Max-Age",
                self.config.max_age.as_secs().to_string(),
            );
        }
    }
}
