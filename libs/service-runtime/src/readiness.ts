/**
 * What /readyz reports: each component (Kafka consumer, LDAP connection, lease, ...) says whether
 * it is ready. The service is ready when every registered component is.
 */
export interface ComponentState {
  ready: boolean;
  detail?: string;
  since: string;
}

export class Readiness {
  readonly #components = new Map<string, ComponentState>();
  #draining = false;

  set(component: string, ready: boolean, detail?: string): void {
    const prev = this.#components.get(component);
    if (prev && prev.ready === ready && prev.detail === detail) return;
    this.#components.set(component, { ready, since: new Date().toISOString(), ...(detail ? { detail } : {}) });
  }

  /** Shutting down: report not ready so traffic and leases move elsewhere. */
  drain(): void {
    this.#draining = true;
  }

  report(): { ready: boolean; draining: boolean; components: Record<string, ComponentState> } {
    const components = Object.fromEntries(this.#components);
    const ready = !this.#draining && [...this.#components.values()].every((c) => c.ready);
    return { ready, draining: this.#draining, components };
  }
}
