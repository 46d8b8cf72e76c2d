//! The host side of the guest's imports, one module per WIT interface. They
//! carry out what they are asked and decide nothing.

pub(crate) mod clock;
pub(crate) mod http;
pub(crate) mod loopback;
pub(crate) mod notify;
pub(crate) mod process;
pub(crate) mod storage;

impl crate::bindings::types::Host for crate::state::HostState {}
