//! Fixed-size values in config files and manifests that take exactly their number of elements:
//! toml's serde accepts `std = [1, 2, 3, 4]` for a `[f32; 3]` and drops the fourth silently. Use
//! with `#[serde(default, deserialize_with = "crate::text::exact::…")]`; the error carries toml's span,
//! so it is reported at the file's line and column.

use serde::de::{Deserialize, Deserializer, Error};

/// Exactly `N` elements.
fn exactly<'de, D: Deserializer<'de>, T: Deserialize<'de>, const N: usize>(
    v: Vec<T>,
) -> Result<[T; N], D::Error> {
    let len = v.len();
    v.try_into()
        .map_err(|_| D::Error::invalid_length(len, &format!("exactly {N} values").as_str()))
}

/// `Option<[T; N]>` with exactly `N` elements.
pub fn opt_array<'de, D, T, const N: usize>(d: D) -> Result<Option<[T; N]>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<Vec<T>>::deserialize(d)?
        .map(exactly::<D, T, N>)
        .transpose()
}

/// `Option<(u32, u32)>` written as `[a, b]`, exactly two.
pub fn opt_pair<'de, D: Deserializer<'de>>(d: D) -> Result<Option<(u32, u32)>, D::Error> {
    Ok(opt_array::<D, u32, 2>(d)?.map(|[a, b]| (a, b)))
}

/// `[f64; 2]`, exactly two.
pub fn point<'de, D: Deserializer<'de>>(d: D) -> Result<[f64; 2], D::Error> {
    exactly::<D, f64, 2>(Vec::deserialize(d)?)
}

/// A list of `[x, y]` points, each exactly two.
pub fn points<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<[f64; 2]>, D::Error> {
    let raw: Vec<Vec<f64>> = Vec::deserialize(d)?;
    raw.into_iter().map(exactly::<D, f64, 2>).collect()
}

#[cfg(test)]
mod tests {
    #[derive(serde::Deserialize, Debug)]
    struct T {
        #[serde(default, deserialize_with = "super::opt_array")]
        std: Option<[f32; 3]>,
        #[serde(default, deserialize_with = "super::opt_pair")]
        size: Option<(u32, u32)>,
        #[serde(default, deserialize_with = "super::points")]
        polygon: Vec<[f64; 2]>,
    }

    #[test]
    fn extra_or_missing_elements_are_errors() {
        let ok: T = toml::from_str("std = [1, 2, 3]\nsize = [4, 5]\npolygon = [[0, 0], [1, 2]]")
            .expect("valid");
        assert_eq!((ok.std, ok.size), (Some([1.0, 2.0, 3.0]), Some((4, 5))));
        assert_eq!(ok.polygon, [[0.0, 0.0], [1.0, 2.0]]);
        let none: T = toml::from_str("").expect("all optional");
        assert!(none.std.is_none() && none.size.is_none() && none.polygon.is_empty());
        for bad in [
            "std = [1, 2, 3, 4]",
            "std = [1, 2]",
            "size = [416, 416, 416]",
            "polygon = [[0, 0, 1]]",
        ] {
            let e = toml::from_str::<T>(bad).expect_err(bad).to_string();
            assert!(e.contains("exactly"), "{bad}: {e}");
        }
    }
}
