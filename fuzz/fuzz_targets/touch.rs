//! The touch webhook parser: any bytes give an event or a 4xx error, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| leadclock_fuzz::check_event(leadclock_app::inbound::Kind::Touch, data));
