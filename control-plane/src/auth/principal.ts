import { Role } from '../registry/consumer.entity';

/** Who is calling: the consumer an API token belongs to. */
export interface Principal {
  id: string;
  name: string;
  roles: Role[];
  /** ODS code of the domain a data product owner publishes for. */
  domain: string | null;
}
