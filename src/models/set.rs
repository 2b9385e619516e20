//! `set: (...)`: the knobs a model file or a scenario's provider changes, and only
//! those. Every field is optional; an unknown one is an error with its position.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::behaviour::*;
use super::knobs::{KnobInfo, knob};

/// A knob given in a file is written bare (`refcount: Racy`), not as `Some(Racy)`.
fn given<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// ... and written back the same way (a field that is `None` is skipped).
fn write_given<S: Serializer, T: Serialize>(value: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(value) => value.serialize(s),
        None => s.serialize_none(),
    }
}

/// Declares one level of `set`: a struct whose fields are optional knobs or groups.
macro_rules! level {
    ($(#[$doc:meta])* $name:ident as $spelt:literal { $($field:ident: $ty:ty),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
        #[serde(deny_unknown_fields, rename = $spelt)]
        pub struct $name {
            $(
                #[serde(
                    default,
                    deserialize_with = "given",
                    serialize_with = "write_given",
                    skip_serializing_if = "Option::is_none"
                )]
                pub $field: Option<$ty>,
            )+
        }
    };
}

level! {
    /// The knobs a model sets (`set: (refcount: Racy, final_cleanup: (lingering: Drop))`).
    Set as "set" {
        refcount: Refcount,
        actual_cleanup: ActualCleanup,
        earlier_cleanup: EarlierCleanup,
        not_started: NotStarted,
        failure_value: FailureValue,
        error_code: ErrorCode,
        restart: Restart,
        machine_state: MachineState,
        dll_detach: DllDetach,
        final_cleanup: FinalCleanupSet,
        lower: Lower,
        san_switch: SanSwitch,
        san: SanSet,
        nsp: NspSet,
        nspv2: NspV2Set,
    }
}

level! {
    FinalCleanupSet as "final_cleanup" {
        pending: Pending,
        overlapped: Overlapped,
        open_sockets: OpenSockets,
        lingering: Lingering,
        worker: Worker,
    }
}

level! {
    SanSet as "san" { cancel: SanCancel, post_fd_accept: bool }
}

level! {
    NspSet as "nsp" { provider_id: ProviderId, cleanup: NspCleanup }
}

level! {
    NspV2Set as "nspv2" { routines: RoutinesSet, host: HostSet }
}

level! {
    RoutinesSet as "routines" { startup: Routine, cleanup: Routine, rundown: Routine }
}

level! {
    HostSet as "host" {
        session_arg: SessionArg,
        failed_session: FailedSession,
        ended_session: EndedSession,
        withdrawing: Withdrawing,
        os_namespace: OsNamespace,
    }
}

/// One knob a `set` gives: the knob, its value, and the path to it in the file.
pub struct Given {
    pub knob: &'static KnobInfo,
    pub value: usize,
}

struct Collect(Vec<Given>);

impl Collect {
    fn put<K: Knob>(&mut self, path: &str, value: Option<K>) {
        if let Some(value) = value {
            let knob = knob(path).expect("every field of `set` is a knob of the table");
            self.0.push(Given {
                knob,
                value: value.index(),
            });
        }
    }
}

impl Set {
    /// The knobs this `set` gives, in the order of the knob table.
    pub fn given(&self) -> Vec<Given> {
        let mut c = Collect(Vec::new());
        c.put("refcount", self.refcount);
        c.put("actual_cleanup", self.actual_cleanup);
        c.put("earlier_cleanup", self.earlier_cleanup);
        c.put("not_started", self.not_started);
        c.put("failure_value", self.failure_value);
        c.put("error_code", self.error_code);
        c.put("restart", self.restart);
        c.put("machine_state", self.machine_state);
        c.put("dll_detach", self.dll_detach);
        if let Some(f) = &self.final_cleanup {
            c.put("final_cleanup.pending", f.pending);
            c.put("final_cleanup.overlapped", f.overlapped);
            c.put("final_cleanup.open_sockets", f.open_sockets);
            c.put("final_cleanup.lingering", f.lingering);
            c.put("final_cleanup.worker", f.worker);
        }
        c.put("lower", self.lower);
        c.put("san_switch", self.san_switch);
        if let Some(s) = &self.san {
            c.put("san.cancel", s.cancel);
            c.put("san.post_fd_accept", s.post_fd_accept);
        }
        if let Some(n) = &self.nsp {
            c.put("nsp.provider_id", n.provider_id);
            c.put("nsp.cleanup", n.cleanup);
        }
        if let Some(v2) = &self.nspv2 {
            if let Some(r) = &v2.routines {
                c.put("nspv2.routines.startup", r.startup);
                c.put("nspv2.routines.cleanup", r.cleanup);
                c.put("nspv2.routines.rundown", r.rundown);
            }
            if let Some(h) = &v2.host {
                c.put("nspv2.host.session_arg", h.session_arg);
                c.put("nspv2.host.failed_session", h.failed_session);
                c.put("nspv2.host.ended_session", h.ended_session);
                c.put("nspv2.host.withdrawing", h.withdrawing);
                c.put("nspv2.host.os_namespace", h.os_namespace);
            }
        }
        c.0
    }

    /// `base` with these knobs set.
    pub fn apply(&self, base: Behaviour) -> Behaviour {
        let mut behaviour = base;
        for given in self.given() {
            given.knob.set(&mut behaviour, given.value);
        }
        behaviour
    }

    /// The `set` that turns `base` into `behaviour`: the knobs that differ, written as a
    /// model file writes them and read back, so that the knob table alone says where
    /// each knob goes.
    pub fn between(base: &Behaviour, behaviour: &Behaviour) -> Set {
        let differences = super::knobs::differences(base, behaviour);
        let text = ron_of(differences.map(|(knob, value)| (knob.path, knob.values()[value])));
        ron::from_str(&text).expect("the knob table's paths and values are those of `set`")
    }

    pub fn is_empty(&self) -> bool {
        self.given().is_empty()
    }

    /// The set as a model file writes it: `(refcount: Racy, final_cleanup: (...))`.
    pub fn to_ron(&self) -> String {
        ron_of(
            self.given()
                .iter()
                .map(|g| (g.knob.path, g.knob.values()[g.value])),
        )
    }
}

/// A `set` in RON for knobs given as (path, value), in the knob table's order.
fn ron_of<'a>(given: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let items: Vec<(Vec<&str>, &str)> = given
        .map(|(path, value)| (path.split('.').collect(), value))
        .collect();
    let mut text = String::new();
    write_level(&mut text, &items);
    text
}

/// `(a: X, b: (c: Y))` for knobs given as paths, each group's members next to each
/// other (the knob table keeps them so).
fn write_level(out: &mut String, items: &[(Vec<&str>, &str)]) {
    out.push('(');
    let mut rest = items;
    let mut first = true;
    while let Some((path, value)) = rest.first() {
        if !first {
            out.push_str(", ");
        }
        first = false;
        out.push_str(path[0]);
        out.push_str(": ");
        if path.len() == 1 {
            out.push_str(value);
            rest = &rest[1..];
            continue;
        }
        let group = rest
            .iter()
            .take_while(|(other, _)| other.len() > 1 && other[0] == path[0])
            .count();
        let inner: Vec<(Vec<&str>, &str)> = rest[..group]
            .iter()
            .map(|(p, v)| (p[1..].to_vec(), *v))
            .collect();
        write_level(out, &inner);
        rest = &rest[group..];
    }
    out.push(')');
}

#[cfg(test)]
mod tests {
    use super::super::knobs::KNOBS;
    use super::*;

    /// Every knob of the table can be written in a `set`, read back, and applied.
    #[test]
    fn every_knob_round_trips_through_a_set() {
        for knob in KNOBS {
            for index in 1..knob.values().len() {
                let mut behaviour = Behaviour::CONFORMING;
                knob.set(&mut behaviour, index);
                let set = Set::between(&Behaviour::CONFORMING, &behaviour);
                let given = set.given();
                assert_eq!(given.len(), 1, "{}", knob.path);
                assert_eq!(given[0].knob.path, knob.path);
                assert_eq!(set.apply(Behaviour::CONFORMING), behaviour);
                let text = set.to_ron();
                let read: Set = ron::from_str(&text).expect("reads back");
                assert_eq!(read, set, "{text}");
                let serialised = ron::to_string(&set).expect("serialises");
                let read: Set = ron::from_str(&serialised).expect("reads back");
                assert_eq!(read, set, "{serialised}");
            }
        }
    }

    #[test]
    fn a_set_is_written_without_some() {
        let text =
            "(refcount: Racy, final_cleanup: (lingering: Drop), san: (post_fd_accept: true))";
        let set: Set = ron::from_str(text).expect("parses");
        assert_eq!(set.refcount, Some(Refcount::Racy));
        assert_eq!(set.to_ron(), text);
    }
}
