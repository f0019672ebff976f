import { CanActivate, createParamDecorator, ExecutionContext, ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Request } from 'express';
import { DataSource } from 'typeorm';
import { Consumer, Role } from '../registry/consumer.entity';
import { Domain } from '../registry/domain.entity';
import { Principal } from './principal';
import { PUBLIC_KEY, ROLES_KEY } from './roles';
import { tokenHash } from './tokens';

type AuthedRequest = Request & { principal?: Principal };

/** Bearer-token authentication and role checks for every route not marked @Public. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(DataSource) private readonly db: DataSource,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const request = context.switchToHttp().getRequest<AuthedRequest>();
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw new UnauthorizedException('missing bearer token (Authorization: Bearer <token>)');
    const consumer = await this.db
      .getRepository(Consumer)
      .createQueryBuilder('c')
      .leftJoinAndMapOne('c.domain', Domain, 'd', 'd.id = c.domain_id')
      .where('c.token_hash = :hash', { hash: tokenHash(match[1]!) })
      .getOne();
    if (!consumer) throw new UnauthorizedException('unknown or revoked token');
    request.principal = { id: consumer.id, name: consumer.name, roles: consumer.roles, domain: consumer.domain?.odsCode ?? null };
    const required = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets);
    if (required && !required.some((role) => consumer.roles.includes(role))) {
      throw new ForbiddenException(`requires role ${required.join(' or ')}; ${consumer.name} has ${consumer.roles.join(', ')}`);
    }
    return true;
  }
}

export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<AuthedRequest>().principal;
  if (!principal) throw new UnauthorizedException('not authenticated');
  return principal;
});
