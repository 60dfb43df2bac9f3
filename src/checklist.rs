//! The pre-deploy checklist: checklists as data ([`model`]), automated checks as pure
//! functions over an environment's objects ([`checks`], [`objects`]), and the record of a
//! walk-through, signed and saved as JSON and Markdown ([`report`]).

pub mod checks;
pub mod model;
pub mod objects;
pub mod report;

pub use checks::{CHECKS, Evidence, Outcome, Status};
pub use model::{Checklist, Item, Section};
pub use objects::{AppObjects, Objects, Previous};
pub use report::{ItemRecord, Report, Summary};
