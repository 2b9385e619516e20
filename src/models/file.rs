//! The model file format: `Model(name: "acme_tcp", kind: Transport, about: "...",
//! set: (refcount: Racy))`. `set` lists only the knobs that differ from conforming.
//! Reading one, with positioned errors, is the scenario loader's work
//! (`scenario::load_model_file`).

use serde::{Deserialize, Serialize};

use super::{Behaviour, Model, ProviderKind, Set};

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename = "Model")]
pub struct ModelFile {
    /// The name a scenario's `Provider(model: ...)` uses, and traces print.
    pub name: String,
    pub kind: ProviderKind,
    /// One or two sentences: which provider this is and what it does differently.
    #[serde(default)]
    pub about: String,
    /// The knobs that differ from conforming.
    #[serde(default)]
    pub set: Set,
}

impl ModelFile {
    pub fn model(&self) -> Model {
        Model {
            name: self.name.clone(),
            kind: self.kind,
            about: self.about.clone(),
            behaviour: self.set.apply(Behaviour::CONFORMING),
        }
    }
}
