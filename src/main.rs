/// mimalloc instead of glibc's malloc: a request allocates and frees a few hundred small objects (headers,
/// the product document's strings, the JSON answer), and glibc's allocator took about a tenth of the
/// machine under a product GET (see docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    shopvo::cli::main()
}
