//! `wit_enum!`: a plain-Rust enum that is also its WIT `enum`.
//!
//! The bindings take such an enum as it is (`with` in `component`), so it is
//! written once. wit-bindgen lowers a WIT enum as `value as i32` and lifts it
//! with `Type::_lift(discriminant)`; this macro supplies `_lift` from the
//! declaration itself, so the Rust order is the WIT order by construction
//! (the WIT file must list the cases in the same order). `ALL` lists the
//! cases for code that names them all.

macro_rules! wit_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$case_meta:meta])* $case:ident ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis enum $name {
            $( $(#[$case_meta])* $case ),+
        }

        impl $name {
            /// Every case, in declaration (and WIT) order.
            pub const ALL: &'static [Self] = &[$(Self::$case),+];

            /// The case of a WIT discriminant; a bad one traps, as the
            /// generated code would.
            #[cfg(target_family = "wasm")]
            #[doc(hidden)]
            pub fn _lift(discriminant: u8) -> Self {
                Self::ALL[usize::from(discriminant)]
            }
        }
    };
}
