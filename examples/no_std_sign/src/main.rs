//! Mints and verifies a LiveKit access token without the standard library.
//!
//! The only outside services are libc's `malloc`, `free`, `write` and `abort`, standing in
//! for whatever allocator and output a constrained target has. The clock is an input, as
//! it would come from an RTC or a time service on a device.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use core::alloc::{GlobalAlloc, Layout};
use core::panic::PanicInfo;

use livekit_auth::{AccessToken, Credentials, TokenVerifier, VideoGrants};

#[link(name = "c")]
unsafe extern "C" {
    fn malloc(size: usize) -> *mut u8;
    fn free(pointer: *mut u8);
    fn posix_memalign(out: *mut *mut u8, align: usize, size: usize) -> i32;
    fn write(fd: i32, buffer: *const u8, count: usize) -> isize;
    fn abort() -> !;
}

struct LibcAllocator;

unsafe impl GlobalAlloc for LibcAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= 16 {
            return unsafe { malloc(layout.size()) };
        }
        let mut pointer = core::ptr::null_mut();
        match unsafe { posix_memalign(&mut pointer, layout.align(), layout.size()) } {
            0 => pointer,
            _ => core::ptr::null_mut(),
        }
    }

    unsafe fn dealloc(&self, pointer: *mut u8, _layout: Layout) {
        unsafe { free(pointer) }
    }
}

#[global_allocator]
static ALLOCATOR: LibcAllocator = LibcAllocator;

#[panic_handler]
fn panic(_info: &PanicInfo<'_>) -> ! {
    print("no_std_sign: panicked\n");
    unsafe { abort() }
}

/// The standard library's prebuilt `alloc` refers to these unwinding hooks even though this
/// program aborts on panic; nothing ever calls them.
#[unsafe(no_mangle)]
extern "C" fn rust_eh_personality() {}

#[unsafe(no_mangle)]
extern "C" fn _Unwind_Resume() -> ! {
    unsafe { abort() }
}

fn print(text: &str) {
    unsafe {
        write(1, text.as_ptr(), text.len());
    }
}

/// The injected clock: a fixed Unix time, as a device would read from its RTC.
const NOW: u64 = 1_800_000_000;

#[unsafe(no_mangle)]
extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
    let Ok(credentials) = Credentials::new("APIdevice", "device-secret-0123456789abcdef") else {
        print("no_std_sign: bad credentials\n");
        return 1;
    };
    let token = AccessToken::new()
        .with_identity("sensor-17")
        .with_video_grants(VideoGrants::join("telemetry"))
        .sign(&credentials, NOW);
    let Ok(token) = token else {
        print("no_std_sign: minting failed\n");
        return 1;
    };
    match TokenVerifier::new(credentials).verify(&token, NOW + 30) {
        Ok(claims) if claims.grants.identity == "sensor-17" => {
            print(&format!("no_std_sign: minted and verified {token}\n"));
            0
        }
        _ => {
            print("no_std_sign: verification failed\n");
            1
        }
    }
}
