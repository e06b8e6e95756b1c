//! The chatcore reference server. Starts with no configuration (SQLite
//! `chatcore.db`, the offline provider, 127.0.0.1:8000); see
//! `chatcore_examples::server` for the environment variables.

use std::process::ExitCode;

use chatcore_examples::server::{self, ServerConfig};

#[rocket::main]
async fn main() -> ExitCode {
    server::init_tracing();
    let rocket = match ServerConfig::from_env() {
        Ok(config) => server::build(config).await,
        Err(error) => Err(error),
    };
    let rocket = match rocket {
        Ok(rocket) => rocket,
        Err(error) => {
            eprintln!("chatcore-server: {error}");
            return ExitCode::FAILURE;
        }
    };
    // SIGINT / SIGTERM start a graceful shutdown; chatcore's shutdown hook
    // stores running replies as `interrupted`.
    match rocket.launch().await {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("chatcore-server: {error}");
            ExitCode::FAILURE
        }
    }
}
