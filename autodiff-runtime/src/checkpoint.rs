//! The segments of a `#[checkpoint]` loop over `lo..hi`, for the code
//! `#[grad]` generates: the loop runs as `count` segments of `every`
//! iterations (the last one shorter), and the gradient keeps the loop's state
//! at the start of some segments instead of a record of every iteration.
//! [`Schedule`] says which: every segment's when there are as many
//! snapshots as segments, else the binomial schedule of Griewank and
//! Walther's Revolve.
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

/// The iterations per segment of `lo..hi`: about √n segments for n
/// iterations (as many segments as iterations in one), or `snapshots` of
/// them when more are asked for. At least 1.
///
/// `snapshots == 0` is the default, one snapshot per segment. Fewer
/// snapshots than segments keep the segments at about √n and share the
/// snapshots by [`Schedule`].
#[inline]
pub fn segment_length<T: LoopIndex>(lo: T, hi: T, snapshots: usize) -> T {
    let n = len(lo, hi);
    let segments = isqrt_ceil(n).max(snapshots as i128);
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

/// Which snapshots of a checkpointed loop's state the gradient keeps, and
/// when: the binomial schedule (Griewank and Walther, "Algorithm 799:
/// Revolve", ACM TOMS 26, 2000) over the loop's segments.
///
/// With `s` snapshots for `l` segments, each segment runs forward at most
/// `r + 1` times, `r` the least with C(s + r, s) ≥ l, and the total is the
/// least any schedule with `s` snapshots achieves. With a snapshot per
/// segment it is the plain schedule: each segment is kept in the forward
/// sweep and run again once.
///
/// The generated code drives it:
/// - forward sweep, at the start of each segment: [`Schedule::forward`] says
///   whether to push a snapshot of the state;
/// - reverse sweep, at the start of each segment, last to first:
///   [`Schedule::restore`] says from which snapshot (the last one kept) the
///   state comes back, and whether it is popped (the segment is its own) or
///   copied; then the segments in between run forward, and
///   [`Schedule::keep`] says at which of them to push a snapshot.
#[derive(Debug, Default)]
pub struct Schedule {
    /// The segments whose snapshots are kept, in the order pushed.
    kept: Vec<usize>,
    /// How many snapshots may be kept at once.
    slots: usize,
    /// The segment at which the next snapshot is kept.
    next: usize,
}

impl Schedule {
    /// A schedule for a loop that has not run yet.
    pub const fn new() -> Self {
        Schedule {
            kept: Vec::new(),
            slots: 0,
            next: 0,
        }
    }

    /// Forward sweep: whether to keep a snapshot of the state at the start
    /// of segment `segment` of `count`, with at most `snapshots` kept at
    /// once (`0`: one per segment).
    #[inline]
    pub fn forward<T: LoopIndex>(&mut self, segment: T, count: T, snapshots: usize) -> bool {
        let (segment, count) = (position(segment), position(count));
        if segment == 0 {
            self.kept.clear();
            self.slots = if snapshots == 0 || snapshots >= count {
                count
            } else {
                snapshots
            };
            self.kept.push(0);
            self.next = self.split(0, count.saturating_sub(1));
            return true;
        }
        self.advance(segment, count.saturating_sub(1))
    }

    /// Reverse sweep, at the start of segment `segment`: the segment whose
    /// snapshot the state comes back from, and whether that snapshot is
    /// popped (it is `segment`'s own, not needed again) rather than copied.
    #[inline]
    pub fn restore<T: LoopIndex>(&mut self, segment: T) -> (T, bool) {
        let target = position(segment);
        let from = *self
            .kept
            .last()
            .expect("the forward sweep kept the first segment's snapshot");
        if from == target {
            self.kept.pop();
            return (segment, true);
        }
        self.next = self.split(from, target);
        (T::from_wide(from as i128), false)
    }

    /// Reverse sweep, running forward from the restored snapshot to
    /// `segment`: whether to keep a snapshot at the start of segment `at`
    /// (before `segment`).
    #[inline]
    pub fn keep<T: LoopIndex>(&mut self, at: T, segment: T) -> bool {
        self.advance(position(at), position(segment))
    }

    fn advance(&mut self, at: usize, target: usize) -> bool {
        if at != self.next || self.kept.len() >= self.slots {
            return false;
        }
        self.kept.push(at);
        self.next = self.split(at, target);
        true
    }

    /// The segment after `from` at which to keep the next snapshot, on the
    /// way to reversing `from..=target` with the snapshot at `from` kept and
    /// the free ones: the least total of segments run forward. (Past
    /// `target` when no snapshot is free or none is worth keeping.)
    fn split(&self, from: usize, target: usize) -> usize {
        let free = self.slots.saturating_sub(self.kept.len());
        if free == 0 {
            return usize::MAX;
        }
        let steps = (target - from + 1) as u128;
        first_step(steps, free as u128 + 1).map_or(usize::MAX, |step| from + step as usize)
    }
}

/// Where to keep the next snapshot when reversing `steps` steps with `s`
/// snapshots (the one at the start included, `s ≥ 2`): `None` for one step.
///
/// With β(s, r) = C(s + r, s), the most steps `s` snapshots reverse running
/// each step forward at most `r` times, and `r` the least with
/// β(s, r) ≥ `steps`, the least total is reached by a first step of at
/// least β(s, r − 2) and at least `steps − β(s − 1, r)` (the steps after it
/// must fit one snapshot fewer).
fn first_step(steps: u128, s: u128) -> Option<u128> {
    if steps <= 1 {
        return None;
    }
    // β(s, r) for r = 0, 1, …: β(s, r) = β(s, r − 1) · (s + r) / r, exact.
    let (mut r, mut beta, mut before, mut before2) = (0u128, 1u128, 0u128, 0u128);
    while beta < steps {
        r += 1;
        before2 = before;
        before = beta;
        beta = beta * (s + r) / r;
    }
    // β(s − 1, r) = β(s, r) · s / (s + r).
    let fewer = beta * s / (s + r);
    let step = before2.max(steps.saturating_sub(fewer));
    Some(step.clamp(1, steps - 1))
}

/// A segment number as a position.
fn position<T: LoopIndex>(segment: T) -> usize {
    segment.to_wide().max(0) as usize
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
                // About √n segments, or as many as snapshots asked for.
                let n = len(lo, hi);
                let most = isqrt_ceil(n).max(snapshots as i128) as usize;
                assert!(got.len() <= most, "{lo}..{hi} in {snapshots}: {got:?}");
                assert!(
                    got.len() as i128 >= isqrt_ceil(n).min(n),
                    "{lo}..{hi}: {got:?}"
                );
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

    /// The generated code's use of a [`Schedule`], with the state of the
    /// loop being the segment it is at: how often each segment runs forward
    /// (the rerun that records it included), and the most snapshots kept at
    /// once. Checks that every restored state is the one asked for.
    fn drive(count: usize, snapshots: usize) -> (Vec<usize>, usize) {
        let mut schedule = Schedule::new();
        let mut kept: Vec<usize> = Vec::new();
        let mut runs = vec![0; count];
        let mut most = 0;
        for (segment, run) in runs.iter_mut().enumerate() {
            if schedule.forward(segment, count, snapshots) {
                kept.push(segment);
            }
            most = most.max(kept.len());
            *run += 1;
        }
        for segment in (0..count).rev() {
            let (from, take) = schedule.restore(segment);
            let state = if take {
                kept.pop().unwrap()
            } else {
                *kept.last().unwrap()
            };
            assert_eq!(state, from, "{count} segments, {snapshots} snapshots");
            assert_eq!(take, from == segment);
            let mut at = from;
            while at < segment {
                if schedule.keep(at, segment) {
                    kept.push(at);
                    most = most.max(kept.len());
                }
                runs[at] += 1;
                at += 1;
            }
            runs[segment] += 1;
        }
        assert!(
            kept.is_empty(),
            "{count} segments, {snapshots} snapshots: {kept:?}"
        );
        (runs, most)
    }

    /// The least number of steps run forward to reverse `l` steps from a
    /// kept state with `s` snapshots (that one included), by exhaustion.
    fn least(
        l: usize,
        s: usize,
        memo: &mut std::collections::HashMap<(usize, usize), usize>,
    ) -> usize {
        if l <= 1 {
            return 0;
        }
        if s == 1 {
            return l * (l - 1) / 2;
        }
        if let Some(&t) = memo.get(&(l, s)) {
            return t;
        }
        let t = (1..l)
            .map(|m| m + least(l - m, s - 1, memo) + least(m, s, memo))
            .min()
            .unwrap();
        memo.insert((l, s), t);
        t
    }

    #[test]
    fn a_snapshot_per_segment_runs_each_segment_twice() {
        for count in [1, 2, 3, 10, 57] {
            for snapshots in [0, count, count + 5] {
                let (runs, most) = drive(count, snapshots);
                assert!(
                    runs.iter().all(|&r| r == 2),
                    "{count}, {snapshots}: {runs:?}"
                );
                assert_eq!(most, count);
            }
        }
    }

    #[test]
    fn fewer_snapshots_are_shared_at_the_least_total() {
        let mut memo = std::collections::HashMap::new();
        for count in 1..=60 {
            for snapshots in 1..count {
                let (runs, most) = drive(count, snapshots);
                assert!(most <= snapshots, "{count}, {snapshots}: {most} kept");
                let total: usize = runs.iter().sum();
                // The forward sweep, the least a schedule runs to reverse
                // the loop with these snapshots, and the rerun of each
                // segment that records it; the forward sweep's part kept
                // in snapshots is not run again.
                let bound = count + least(count, snapshots, &mut memo) + count;
                assert!(total <= bound, "{count}, {snapshots}: {total} > {bound}");
                // No segment runs more often than the binomial bound.
                let mut r = 0;
                while binomial(snapshots + r, snapshots) < count {
                    r += 1;
                }
                let worst = *runs.iter().max().unwrap();
                assert!(
                    worst <= r + 2,
                    "{count}, {snapshots}: a segment ran {worst} times, r = {r}"
                );
            }
        }
    }

    #[test]
    fn one_snapshot_runs_from_the_start_each_time() {
        let (runs, most) = drive(5, 1);
        assert_eq!(most, 1);
        // Segment k runs in the forward sweep, then once for each later
        // segment, then again recorded.
        assert_eq!(runs, vec![6, 5, 4, 3, 2]);
    }

    #[test]
    fn the_first_step_is_revolves() {
        // 10 steps, 3 snapshots: r = 2 (C(5, 3) = 10), first step in
        // [β(3, 0), 10 − β(2, 2)] = [1, 4] at the least: 4.
        assert_eq!(first_step(10, 3), Some(4));
        assert_eq!(first_step(1, 3), None);
        // A snapshot per step: the next one.
        assert_eq!(first_step(7, 8), Some(1));
        // Two snapshots, 37 steps: r = 8, first step 28.
        assert_eq!(first_step(37, 2), Some(28));
        // Huge counts do not overflow.
        assert!(first_step(u64::MAX as u128, 3).is_some());
    }

    fn binomial(n: usize, k: usize) -> usize {
        (1..=k).fold(1, |acc, i| acc * (n + 1 - i) / i)
    }
}
