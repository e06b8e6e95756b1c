//! Benchmarks of chatcore (criterion benches live in `benches/`).
