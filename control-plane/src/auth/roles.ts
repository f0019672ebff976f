import { SetMetadata } from '@nestjs/common';
import { Role } from '../registry/consumer.entity';

export const ROLES_KEY = 'mesh:roles';
export const PUBLIC_KEY = 'mesh:public';

/** Any of these roles may call the handler; without @Roles any authenticated consumer may. */
export const Roles = (...roles: Role[]): MethodDecorator & ClassDecorator => SetMetadata(ROLES_KEY, roles);
/** No token needed (health, OpenAPI document). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_KEY, true);
