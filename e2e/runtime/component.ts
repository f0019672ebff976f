// What every mesh component offers the runtime: installing what is missing, starting (idempotently),
// stopping, and reporting health for `mesh:status`.
export type ComponentKind = 'postgres' | 'fhir' | 'trino' | 'control-plane' | 'gateway' | 'circuit';

export interface ComponentStatus {
  name: string;
  kind: ComponentKind;
  url: string;
  healthy: boolean;
  /** Why it is unhealthy, or a short fact about it (version, partition, …). */
  detail?: string;
  pid?: number;
  rssMiB?: number;
}

export interface Component {
  readonly name: string;
  /** Downloads, builds and initialises whatever is missing; fast when everything is there. */
  prepare(): Promise<void>;
  /** Starts the process and waits until it is ready; returns false when it was already running. */
  start(): Promise<boolean>;
  stop(): Promise<void>;
  status(): Promise<ComponentStatus[]>;
}
