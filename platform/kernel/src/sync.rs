//! Kernel events and simulation-aware FIFO channels.
//!
//! Both wake waiting processes in the order they started waiting, so message passing is as
//! deterministic as the rest of the kernel.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll};

use crate::sim::{Action, Inner, Sim, TaskId};
use crate::time::SimTime;

pub(crate) struct EventInner {
    name: String,
    sim: Weak<Inner>,
    waiters: RefCell<Vec<TaskId>>,
    count: Cell<u64>,
}

impl EventInner {
    pub(crate) fn fire(&self, sim: &Sim) {
        self.count.set(self.count.get() + 1);
        let waiters = std::mem::take(&mut *self.waiters.borrow_mut());
        for id in waiters {
            sim.wake(id);
        }
    }
}

/// A kernel event (SystemC's `sc_event`): processes wait on it, components notify it.
/// Cloning gives another handle to the same event.
#[derive(Clone)]
pub struct Event(Rc<EventInner>);

impl Event {
    pub fn new(sim: &Sim, name: impl Into<String>) -> Event {
        Event(Rc::new(EventInner {
            name: name.into(),
            sim: sim.weak(),
            waiters: RefCell::new(Vec::new()),
            count: Cell::new(0),
        }))
    }

    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// How many times the event has fired.
    pub fn count(&self) -> u64 {
        self.0.count.get()
    }

    fn sim(&self) -> Option<Sim> {
        self.0.sim.upgrade().map(Sim::from_inner)
    }

    /// Immediate notification: waiting processes run in the current evaluation phase.
    pub fn notify(&self) {
        if let Some(sim) = self.sim() {
            self.0.fire(&sim);
        }
    }

    /// Notification at the next delta cycle.
    pub fn notify_delta(&self) {
        if let Some(sim) = self.sim() {
            sim.schedule_delta(Action::Notify(self.0.clone()));
        }
    }

    /// Timed notification at absolute time `t` (at the next delta if `t` is not in the future).
    pub fn notify_at(&self, t: SimTime) {
        if let Some(sim) = self.sim() {
            if t <= sim.now() {
                sim.schedule_delta(Action::Notify(self.0.clone()));
            } else {
                sim.schedule_at(t, Action::Notify(self.0.clone()));
            }
        }
    }

    /// Wait for the next notification.
    pub fn wait(&self) -> EventWait {
        EventWait {
            ev: self.clone(),
            start: None,
        }
    }
}

/// Future of [`Event::wait`].
pub struct EventWait {
    ev: Event,
    start: Option<u64>,
}

impl Future for EventWait {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        let Some(sim) = self.ev.sim() else {
            return Poll::Pending;
        };
        match self.start {
            Some(c) if c != self.ev.count() => Poll::Ready(()),
            _ => {
                if self.start.is_none() {
                    self.start = Some(self.ev.count());
                }
                let id = sim.current_task();
                let mut w = self.ev.0.waiters.borrow_mut();
                if !w.contains(&id) {
                    w.push(id);
                }
                drop(w);
                sim.set_waiting_on(&format!("event '{}'", self.ev.0.name));
                Poll::Pending
            }
        }
    }
}

struct FifoInner<T> {
    name: String,
    cap: usize,
    items: RefCell<VecDeque<T>>,
    readers: RefCell<VecDeque<TaskId>>,
    writers: RefCell<VecDeque<TaskId>>,
    sim: Weak<Inner>,
}

/// A bounded FIFO channel between processes of one simulation (SystemC's `sc_fifo`).
/// `send` waits while full, `recv` waits while empty; waiters are served in order.
pub struct Fifo<T>(Rc<FifoInner<T>>);

impl<T> Clone for Fifo<T> {
    fn clone(&self) -> Self {
        Fifo(self.0.clone())
    }
}

impl<T> Fifo<T> {
    /// A FIFO holding at most `capacity` items (at least 1).
    pub fn new(sim: &Sim, name: impl Into<String>, capacity: usize) -> Fifo<T> {
        Fifo(Rc::new(FifoInner {
            name: name.into(),
            cap: capacity.max(1),
            items: RefCell::new(VecDeque::new()),
            readers: RefCell::new(VecDeque::new()),
            writers: RefCell::new(VecDeque::new()),
            sim: sim.weak(),
        }))
    }

    pub fn name(&self) -> &str {
        &self.0.name
    }
    pub fn len(&self) -> usize {
        self.0.items.borrow().len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn capacity(&self) -> usize {
        self.0.cap
    }

    fn wake_one(&self, q: &RefCell<VecDeque<TaskId>>) {
        let id = q.borrow_mut().pop_front();
        if let (Some(id), Some(inner)) = (id, self.0.sim.upgrade()) {
            Sim::from_inner(inner).wake(id);
        }
    }

    /// Put an item if there is room; gives it back otherwise.
    pub fn try_send(&self, v: T) -> Result<(), T> {
        if self.len() >= self.0.cap {
            return Err(v);
        }
        self.0.items.borrow_mut().push_back(v);
        self.wake_one(&self.0.readers);
        Ok(())
    }

    /// Take the oldest item, if any.
    pub fn try_recv(&self) -> Option<T> {
        let v = self.0.items.borrow_mut().pop_front();
        if v.is_some() {
            self.wake_one(&self.0.writers);
        }
        v
    }

    /// Send, waiting while the FIFO is full.
    pub fn send(&self, v: T) -> FifoSend<T> {
        FifoSend {
            fifo: self.clone(),
            item: Some(v),
        }
    }

    /// Receive, waiting while the FIFO is empty.
    pub fn recv(&self) -> FifoRecv<T> {
        FifoRecv { fifo: self.clone() }
    }

    fn park(&self, q: &RefCell<VecDeque<TaskId>>, what: &str) {
        if let Some(inner) = self.0.sim.upgrade() {
            let sim = Sim::from_inner(inner);
            let id = sim.current_task();
            let mut q = q.borrow_mut();
            if !q.contains(&id) {
                q.push_back(id);
            }
            drop(q);
            sim.set_waiting_on(&format!("fifo '{}' ({})", self.0.name, what));
        }
    }
}

/// Future of [`Fifo::send`].
pub struct FifoSend<T> {
    fifo: Fifo<T>,
    item: Option<T>,
}

impl<T> Unpin for FifoSend<T> {}

impl<T> Future for FifoSend<T> {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        let Some(v) = self.item.take() else {
            return Poll::Ready(());
        };
        match self.fifo.try_send(v) {
            Ok(()) => Poll::Ready(()),
            Err(v) => {
                self.item = Some(v);
                self.fifo.park(&self.fifo.0.writers, "full");
                Poll::Pending
            }
        }
    }
}

/// Future of [`Fifo::recv`].
pub struct FifoRecv<T> {
    fifo: Fifo<T>,
}

impl<T> Future for FifoRecv<T> {
    type Output = T;
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<T> {
        match self.fifo.try_recv() {
            Some(v) => Poll::Ready(v),
            None => {
                self.fifo.park(&self.fifo.0.readers, "empty");
                Poll::Pending
            }
        }
    }
}
