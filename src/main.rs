fn main() {
    std::process::exit(eksnet::run(std::env::args_os()));
}
