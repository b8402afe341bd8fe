#include "actors/balance/balancer_actor.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <stdexcept>
#include <unordered_map>
#include <utility>
#include <variant>

#include "caf/actor_clock.hpp"
#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/response_promise.hpp"
#include "caf/sec.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/system_messages.hpp"

#include "actors/balance/balancer_core.hpp"
#include "actors/balance/type_ids.hpp"

namespace ballot::balance {

namespace {

struct worker_entry {
  std::string name;
  caf::actor handle;
  bool up = true;
};

struct open_request {
  caf::response_promise promise;
  caf::message payload;
};

std::string context_text(const caf::message& ctx) {
  return ctx.match_elements<std::string>() ? ctx.get_as<std::string>(0) : std::string{};
}

/// The driver of one balancer_core: it keeps the workers' handles, the
/// clients' promises and the payloads, carries out the core's actions, and
/// turns CAF events (replies, errors, timeouts, down messages, timers) into
/// the core's inputs. Every decision is the core's.
struct balancer_state {
  static inline const char* name = "ballot.balancer";

  explicit balancer_state(caf::event_based_actor* self) : self(self) {}

  /// Milliseconds on the actor system's clock (the test clock under
  /// test_coordinator) since the balancer started.
  millis now() const { return std::chrono::duration_cast<millis>(self->clock().now() - start); }

  caf::actor_clock::time_point at(millis t) const { return start + t; }

  /// Carries out the core's actions. `reply` is the worker reply that the
  /// last input (a success) delivered, if any.
  void flush(caf::message* reply = nullptr) {
    for (auto& a : core->take_actions()) {
      if (auto* d = std::get_if<dispatch>(&a)) {
        send_attempt(*d);
      } else if (auto* c = std::get_if<complete>(&a)) {
        auto it = open.find(c->request);
        if (it == open.end())
          continue;
        if (c->ok)
          it->second.promise.deliver(reply != nullptr ? *reply : caf::message{});
        else
          it->second.promise.deliver(make_caf_error(c->error));
        open.erase(it);
      } else if (auto* t = std::get_if<arm_deadline>(&a)) {
        self->scheduled_send(self, at(t->at), balance_deadline_atom_v, t->request);
      } else if (auto* w = std::get_if<wake>(&a)) {
        self->scheduled_send(self, at(w->at), balance_tick_atom_v);
      }
    }
  }

  void send_attempt(const dispatch& d) {
    auto& req = open.at(d.request);
    auto& worker = workers.at(d.backend).handle;
    auto left = at(d.timeout_at) - self->clock().now();
    caf::timespan timeout = std::max<caf::timespan>(left, std::chrono::milliseconds(1));
    auto id = d.request;
    auto attempt = d.attempt;
    auto backend = d.backend;
    // CAF 0.17 has no catch-all response handler for event-based actors: a
    // reply that matches no handler arrives at the error handler as
    // `unexpected_response` with the reply as its context. The first
    // handler only gives `then` its shape; it never matches a real reply.
    self->request(worker, timeout, req.payload)
      .then([](caf::message&) {},
            [this, id, attempt, backend](caf::error& err) {
              on_attempt_result(id, attempt, backend, err);
            });
  }

  void on_attempt_result(request_id id, std::uint32_t attempt, backend_id backend,
                         caf::error& err) {
    auto t = now();
    if (err == caf::sec::unexpected_response) {
      caf::message reply = std::move(err.context());
      core->succeeded(id, attempt, t);
      flush(&reply);
      return;
    }
    if (err == caf::sec::request_timeout) {
      core->timed_out(id, attempt, t);
    } else if (err == caf::sec::request_receiver_down && is_up(backend)) {
      // The worker died before our request reached it; its down_msg may
      // still be on its way.
      worker_lost(backend);
    } else {
      core->failed(id, attempt, self->system().render(err), t);
    }
    flush();
  }

  bool is_up(backend_id id) const {
    auto it = workers.find(id);
    return it != workers.end() && it->second.up;
  }

  void worker_lost(backend_id id) {
    auto& w = workers.at(id);
    w.up = false;
    core->backend_down(id, now());
  }

  caf::result<std::string> add_worker(std::string name, caf::actor worker, std::uint32_t weight,
                                      std::optional<std::uint32_t> limit) {
    if (!worker)
      return caf::make_error(caf::sec::invalid_argument, "add worker: invalid actor handle");
    if (name.empty())
      name = caf::to_string(worker.address());
    backend_id id;
    if (auto it = by_name.find(name); it != by_name.end()) {
      auto& w = workers.at(it->second);
      if (w.up)
        return caf::make_error(caf::sec::invalid_argument,
                               "add worker: a worker named '" + name + "' is up already");
      id = it->second;
      w.handle = worker;
      w.up = true;
    } else {
      id = next_backend++;
      workers.emplace(id, worker_entry{name, worker, true});
      by_name.emplace(name, id);
    }
    self->monitor(worker);
    core->add_backend(id, backend_options{name, weight, limit}, now());
    flush();
    return name;
  }

  std::optional<std::string> name_of(const caf::actor& worker) const {
    for (auto& [id, w] : workers)
      if (w.handle == worker)
        return w.name;
    return std::nullopt;
  }

  bool remove_worker(const std::string& name) {
    auto it = by_name.find(name);
    if (it == by_name.end())
      return false;
    auto id = it->second;
    if (auto& w = workers.at(id); w.up)
      self->demonitor(w.handle);
    core->remove_backend(id, now());
    workers.erase(id);
    by_name.erase(it);
    flush();
    return true;
  }

  bool reweight(const std::string& name, std::uint32_t weight) {
    auto it = by_name.find(name);
    if (it == by_name.end())
      return false;
    bool ok = core->reweight(it->second, weight, now());
    flush();
    return ok;
  }

  /// Takes the configured workers, builds the core over them, and watches them.
  void open_with(const balancer_config& cfg) {
    start = self->clock().now();
    std::vector<std::pair<backend_id, backend_options>> initial;
    for (auto& w : cfg.workers) {
      auto id = next_backend++;
      workers.emplace(id, worker_entry{w.name, w.worker, true});
      by_name.emplace(w.name, id);
      initial.emplace_back(id, backend_options{w.name, w.weight, w.max_outstanding});
    }
    core = std::make_unique<balancer_core>(cfg.limits, make_policy(cfg.policy, cfg.policy_opts),
                                           initial);
    // Monitor only once the core knows them: a dead handle's down_msg may
    // arrive at once.
    for (auto& [id, w] : workers)
      self->monitor(w.handle);
    flush();
  }

  caf::response_promise submit(balance_request& req) {
    auto promise = self->make_response_promise();
    auto id = next_request++;
    open.emplace(id, open_request{promise, std::move(req.payload)});
    core->submit(id, hash_key(req.key), req.idempotent, now());
    flush();
    return promise;
  }

  caf::event_based_actor* self;
  std::unique_ptr<balancer_core> core;
  caf::actor_clock::time_point start;
  std::map<backend_id, worker_entry> workers;
  std::map<std::string, backend_id> by_name;
  backend_id next_backend = 1;
  request_id next_request = 1;
  std::unordered_map<request_id, open_request> open;
};

using balancer_actor_t = caf::stateful_actor<balancer_state>;

caf::behavior balancer_actor(balancer_actor_t* self, balancer_config cfg) {
  self->state.open_with(cfg);
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    for (auto& [id, w] : st.workers) {
      if (w.up && w.handle.address() == msg.source) {
        st.worker_lost(id);
        st.flush();
        return;
      }
    }
  });
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto& st = self->state;
    auto why = self->system().render(msg.reason);
    for (auto& [id, req] : st.open)
      req.promise.deliver(make_caf_error(
        {errc::shutdown, "the balancer stopped (" + why + ") with the request still open"}));
    st.open.clear();
    self->quit(msg.reason);
  });

  return {
    [self](balance_request& req) -> caf::result<caf::message> { return self->state.submit(req); },
    [self](add_worker_atom, caf::actor& worker, std::uint32_t weight) {
      return self->state.add_worker({}, std::move(worker), weight, std::nullopt);
    },
    [self](add_worker_atom, std::string& name, caf::actor& worker, std::uint32_t weight) {
      return self->state.add_worker(std::move(name), std::move(worker), weight, std::nullopt);
    },
    [self](add_worker_atom, std::string& name, caf::actor& worker, std::uint32_t weight,
           std::uint32_t max_outstanding) {
      return self->state.add_worker(std::move(name), std::move(worker), weight, max_outstanding);
    },
    [self](remove_worker_atom, const std::string& name) { return self->state.remove_worker(name); },
    [self](remove_worker_atom, const caf::actor& worker) {
      auto name = self->state.name_of(worker);
      return name && self->state.remove_worker(*name);
    },
    [self](reweight_atom, const std::string& name, std::uint32_t weight) {
      return self->state.reweight(name, weight);
    },
    [self](reweight_atom, const caf::actor& worker, std::uint32_t weight) {
      auto name = self->state.name_of(worker);
      return name && self->state.reweight(*name, weight);
    },
    [self](balance_stats_atom) { return self->state.core->stats(); },
    [self](balance_deadline_atom, request_id id) {
      auto& st = self->state;
      st.core->deadline_expired(id, st.now());
      st.flush();
    },
    [self](balance_tick_atom) {
      auto& st = self->state;
      st.core->tick(st.now());
      st.flush();
    },
  };
}

}  // namespace

caf::actor spawn_balancer(caf::actor_system& sys, balancer_config cfg) {
  std::map<std::string, int> names;
  for (auto& w : cfg.workers) {
    if (!w.worker)
      throw std::invalid_argument("spawn_balancer: invalid worker handle" +
                                  (w.name.empty() ? std::string{} : " for '" + w.name + "'"));
    if (w.name.empty())
      w.name = caf::to_string(w.worker.address());
    if (++names[w.name] > 1)
      throw std::invalid_argument("spawn_balancer: two workers named '" + w.name + "'");
  }
  return sys.spawn(balancer_actor, std::move(cfg));
}

void configure(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::ballot_balance>();
  cfg.add_error_category(
    error_category, [](std::uint8_t code, caf::atom_value, const caf::message& ctx) {
      return "balance: " + to_string(failure{static_cast<errc>(code), context_text(ctx)});
    });
}

caf::error make_caf_error(const failure& f) {
  return caf::error{static_cast<std::uint8_t>(f.code), error_category,
                    caf::make_message(f.message)};
}

std::optional<failure> to_failure(const caf::error& err) {
  if (!err || err.category() != error_category)
    return std::nullopt;
  return failure{static_cast<errc>(err.code()), context_text(err.context())};
}

}  // namespace ballot::balance
