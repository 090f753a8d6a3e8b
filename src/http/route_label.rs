//! The matched route's label for metrics and logs, shared by the edge middleware (which owns it per request) and the router (which fills it).
use std::cell::Cell;
use std::rc::Rc;

/// Where routing leaves the matched route's pattern, the only route label metrics ever see.
/// The edge middleware puts one in the request and keeps a handle, so the label survives a
/// handler that panics with the request; it is set by the route's method guard, which runs
/// only once the path has matched (asking actix for the name before routing re-matched the path
/// against every pattern: an eighth of a cache hit's CPU).
#[derive(Clone)]
pub struct RouteSlot(Rc<Cell<&'static str>>);

impl Default for RouteSlot {
    fn default() -> Self { RouteSlot(Rc::new(Cell::new("unmatched"))) }
}

impl RouteSlot {
    /// The matched route's pattern, or "unmatched".
    pub fn label(&self) -> &'static str { self.0.get() }

    /// Called by a route's guard once its path has matched.
    pub fn set(&self, label: &'static str) { self.0.set(label) }
}
