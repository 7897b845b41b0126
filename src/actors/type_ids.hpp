// The only place that declares ebuse's CAF atoms and type ids.
#pragma once

#include <caf/atom.hpp>
#include <caf/type_id.hpp>

CAF_BEGIN_TYPE_ID_BLOCK(ebuse, caf::first_custom_type_id)

  CAF_ADD_ATOM(ebuse, ebuse, save_atom, "save")
  CAF_ADD_ATOM(ebuse, ebuse, reap_atom, "reap")
  CAF_ADD_ATOM(ebuse, ebuse, sweep_atom, "sweep")
  CAF_ADD_ATOM(ebuse, ebuse, release_atom, "release")
  CAF_ADD_ATOM(ebuse, ebuse, key_sweep_atom, "key_sweep")
  CAF_ADD_ATOM(ebuse, ebuse, job_done_atom, "job_done")
  CAF_ADD_ATOM(ebuse, ebuse, budget_atom, "budget")

CAF_END_TYPE_ID_BLOCK(ebuse)
