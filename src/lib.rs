#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub use autodiff_macros::grad;
pub use autodiff_runtime::*;

/// Not public API: what `#[grad]`-generated code names. May change in any
/// release without notice.
#[doc(hidden)]
pub mod __private {
    pub use autodiff_runtime::rules;
    pub use autodiff_runtime::{Accumulate, Differentiable, NotDifferentiated, ScalarOutput};
    pub use core::option::Option;
}
