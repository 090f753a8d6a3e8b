//! Rebuilds the binary when any dashboard file changes, is added or is removed (rust-embed compiles them in).
fn main() {
    println!("cargo:rerun-if-changed=dashboard/app");
}
