import { EventEmitter } from 'node:events';
import { Injectable } from '@nestjs/common';

/**
 * Raised after a registry change commits. The catalogs module listens and regenerates what Trino serves,
 * so the registry never waits for (or fails because of) Trino.
 */
@Injectable()
export class RegistryEvents extends EventEmitter {
  changed(what: string): void {
    this.emit('changed', what);
  }

  onChanged(listener: (what: string) => void): void {
    this.on('changed', listener);
  }
}
