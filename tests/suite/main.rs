//! Integration tests: the real eksnet binary against localcloud (moto + the EKS parts it
//! lacks), asserting what exists in the emulator, what the plan says and what errors say.

mod common;
mod cost;
mod crash;
mod docs;
mod eks;
mod failsafe;
mod faults;
mod import;
mod interrupt;
mod leftovers;
mod manifests;
mod network;
mod ownership;
mod polling;
mod refresh;
mod remote_state;
mod replace;
mod review;
mod saved_plan;
mod secrets;
mod state_edit;
mod strict;
mod sweep;
mod upgrade;
mod validation;
mod verify;
