//! A bare Rocket "hello" route: the machine's HTTP ceiling for the `load`
//! benchmark. Listens on `ROCKET_ADDRESS`/`ROCKET_PORT` (Rocket's own variables).

use rocket::config::LogLevel;

#[rocket::get("/hello")]
fn hello() -> &'static str {
    "hello"
}

#[rocket::launch]
fn rocket() -> _ {
    let figment = rocket::Config::figment().merge(("log_level", LogLevel::Critical));
    rocket::custom(figment).mount("/", rocket::routes![hello])
}
