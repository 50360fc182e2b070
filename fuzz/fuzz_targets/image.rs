//! The image decode path behind lookout's size limits: any bytes are an RGB frame within the
//! limits or an error, and no declared size makes it allocate beyond them.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut buf = Vec::new();
    if let Ok((w, h)) =
        lookout::source::images::decode_rgb_bytes(std::path::Path::new("fuzz"), data, &mut buf)
    {
        assert!(lookout::source::frame_size_error(w, h).is_none());
        assert_eq!(buf.len(), w as usize * h as usize * 3);
    }
});
