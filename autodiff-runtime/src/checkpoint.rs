//! The segments of a `#[checkpoint]` loop over `lo..hi`, for the code
//! `#[grad]` generates: the loop runs as `count` segments of `every`
//! iterations (the last one shorter), and the gradient keeps the loop's state
//! at the start of each segment instead of a record of every iteration.
//!
//! Integers of any primitive type: the loop's index keeps its type.

/// A primitive integer that a loop may count with.
pub trait LoopIndex: Copy {
    #[doc(hidden)]
    fn to_wide(self) -> i128;
    #[doc(hidden)]
    fn from_wide(wide: i128) -> Self;
}

macro_rules! loop_index {
    ($($t:ty)*) => {$(
        impl LoopIndex for $t {
            #[inline]
            fn to_wide(self) -> i128 {
                self as i128
            }
            #[inline]
            fn from_wide(wide: i128) -> Self {
                wide as $t
            }
        }
    )*};
}

loop_index!(u8 u16 u32 u64 usize i8 i16 i32 i64 isize i128);

fn len<T: LoopIndex>(lo: T, hi: T) -> i128 {
    (hi.to_wide() - lo.to_wide()).max(0)
}

/// The iterations per segment of `lo..hi` for about `snapshots` segments;
/// `snapshots == 0` asks for about √n of them (n iterations), which keeps
/// as many snapshots as iterations recorded at once. At least 1.
#[inline]
pub fn segment_length<T: LoopIndex>(lo: T, hi: T, snapshots: usize) -> T {
    let n = len(lo, hi);
    let segments = if snapshots == 0 {
        isqrt_ceil(n)
    } else {
        snapshots as i128
    };
    let every = (n + segments - 1) / segments.max(1);
    T::from_wide(every.max(1))
}

/// How many segments of `every` iterations cover `lo..hi`.
#[inline]
pub fn segment_count<T: LoopIndex>(lo: T, hi: T, every: T) -> T {
    let every = every.to_wide().max(1);
    T::from_wide((len(lo, hi) + every - 1) / every)
}

/// The first index of segment `segment`.
#[inline]
pub fn segment_start<T: LoopIndex>(lo: T, every: T, segment: T) -> T {
    T::from_wide(lo.to_wide() + every.to_wide() * segment.to_wide())
}

/// One past the last index of the segment that starts at `start`.
#[inline]
pub fn segment_end<T: LoopIndex>(hi: T, start: T, every: T) -> T {
    T::from_wide((start.to_wide() + every.to_wide()).min(hi.to_wide()))
}

/// ⌈√n⌉, at least 1.
fn isqrt_ceil(n: i128) -> i128 {
    if n <= 1 {
        return 1;
    }
    let mut r = (n as f64).sqrt() as i128;
    while r * r < n {
        r += 1;
    }
    while (r - 1) * (r - 1) >= n {
        r -= 1;
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The segments, as a loop over them visits them.
    fn segments<T: LoopIndex>(lo: T, hi: T, snapshots: usize) -> Vec<(i128, i128)> {
        let every = segment_length(lo, hi, snapshots);
        let count = segment_count(lo, hi, every).to_wide();
        (0..count)
            .map(|k| {
                let start = segment_start(lo, every, T::from_wide(k));
                (start.to_wide(), segment_end(hi, start, every).to_wide())
            })
            .collect()
    }

    #[test]
    fn the_segments_cover_the_range_in_order_once() {
        for (lo, hi) in [
            (0i64, 0i64),
            (0, 1),
            (0, 10),
            (3, 17),
            (-5, 5),
            (7, 3),
            (0, 1000),
        ] {
            for snapshots in [0, 1, 2, 3, 7, 1000, 5000] {
                let got = segments(lo, hi, snapshots);
                let mut next = lo as i128;
                for &(start, end) in &got {
                    assert_eq!(start, next, "{lo}..{hi} in {snapshots}: {got:?}");
                    assert!(end > start, "{lo}..{hi} in {snapshots}: {got:?}");
                    next = end;
                }
                assert_eq!(next, (hi as i128).max(lo as i128), "{lo}..{hi}: {got:?}");
                if snapshots > 0 {
                    assert!(got.len() <= snapshots, "{lo}..{hi} in {snapshots}: {got:?}");
                }
            }
        }
    }

    #[test]
    fn the_default_is_about_the_square_root() {
        assert_eq!(segments(0usize, 1_000_000, 0).len(), 1000);
        assert_eq!(segments(0usize, 1_000_000, 0)[0], (0, 1000));
        assert_eq!(segments(0u8, 255, 0).len(), 16);
        assert_eq!(isqrt_ceil(17), 5);
        assert_eq!(isqrt_ceil(16), 4);
    }
}
