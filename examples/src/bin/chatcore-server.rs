//! The chatcore reference server.

fn main() {
    println!("chatcore-server: the HTTP layer is not built yet (see the open issues).");
}
