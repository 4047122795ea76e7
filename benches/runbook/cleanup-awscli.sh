#!/usr/bin/env bash
# Decommission ECS service stacks the runbook way: the AWS CLI, one command per call,
# one stack after another, each step waited for before the next. The shape of the
# cleanup scripts in real runbooks (look ids up by name or tag, delete, wait),
# written carefully: it deletes what `decom` deletes for the same stacks, in an order
# AWS accepts.
#
#   cleanup-awscli.sh svc-0001 [svc-0002 ...]
#
# Per stack <svc>: ALB <svc>-alb with its listener and path rule, target groups
# <svc>-blue/<svc>-green, instances tagged Service=<svc>, security groups
# <svc>-alb-sg/<svc>-app-sg (the app group admits the ALB group), instance profile
# <svc>-ecs-instance-profile, role <svc>-ecs-instance-role with its attached customer
# policy and inline policies, log groups /ecs/<svc>*.
#
# Region, credentials and endpoint come from the environment (AWS_DEFAULT_REGION,
# AWS_ACCESS_KEY_ID, ..., AWS_ENDPOINT_URL). Used by `cargo bench --bench moto --
# runbook` (benches/moto.rs).
set -euo pipefail

log() { echo "$(date +%H:%M:%S) $*" >&2; }

for svc in "$@"; do
    log "== $svc"

    # 1. Load balancer: rules, listeners, then the balancer itself, and wait.
    alb_arn=$(aws elbv2 describe-load-balancers --names "$svc-alb" \
        --query 'LoadBalancers[0].LoadBalancerArn' --output text)
    alb_sg=$(aws ec2 describe-security-groups \
        --filters "Name=group-name,Values=$svc-alb-sg" \
        --query 'SecurityGroups[0].GroupId' --output text)
    listeners=$(aws elbv2 describe-listeners --load-balancer-arn "$alb_arn" \
        --query 'Listeners[].ListenerArn' --output text)
    for listener in $listeners; do
        rules=$(aws elbv2 describe-rules --listener-arn "$listener" \
            --query 'Rules[?IsDefault==`false`].RuleArn' --output text)
        for rule in $rules; do
            log "delete rule $rule"
            aws elbv2 delete-rule --rule-arn "$rule"
        done
        log "delete listener $listener"
        aws elbv2 delete-listener --listener-arn "$listener"
    done
    log "delete load balancer $alb_arn"
    aws elbv2 delete-load-balancer --load-balancer-arn "$alb_arn"
    aws elbv2 wait load-balancers-deleted --load-balancer-arns "$alb_arn"
    # The ALB's network interfaces go some time after the balancer: its group can
    # only be deleted once they are gone.
    while [[ -n "$(aws ec2 describe-network-interfaces \
        --filters "Name=group-id,Values=$alb_sg" \
        --query 'NetworkInterfaces[].NetworkInterfaceId' --output text)" ]]; do
        log "waiting for the network interfaces of $svc-alb"
        sleep 15
    done

    # 2. Target groups, now that nothing forwards to them.
    target_groups=$(aws elbv2 describe-target-groups --names "$svc-blue" "$svc-green" \
        --query 'TargetGroups[].TargetGroupArn' --output text)
    for tg in $target_groups; do
        log "delete target group $tg"
        aws elbv2 delete-target-group --target-group-arn "$tg"
    done

    # 3. Instances: terminate and wait (their interfaces go with them).
    instances=$(aws ec2 describe-instances \
        --filters "Name=tag:Service,Values=$svc" \
        "Name=instance-state-name,Values=pending,running,stopping,stopped" \
        --query 'Reservations[].Instances[].InstanceId' --output text)
    if [[ -n "$instances" ]]; then
        log "terminate $instances"
        # shellcheck disable=SC2086 # one id per word
        aws ec2 terminate-instances --instance-ids $instances >/dev/null
        # shellcheck disable=SC2086
        aws ec2 wait instance-terminated --instance-ids $instances
    fi

    # 4. Security groups: the app group's rule that admits the ALB group, then both.
    app_sg=$(aws ec2 describe-security-groups \
        --filters "Name=group-name,Values=$svc-app-sg" \
        --query 'SecurityGroups[0].GroupId' --output text)
    rule_ids=$(aws ec2 describe-security-group-rules \
        --filters "Name=group-id,Values=$app_sg" \
        --query "SecurityGroupRules[?ReferencedGroupInfo.GroupId=='$alb_sg'].SecurityGroupRuleId" \
        --output text)
    if [[ -n "$rule_ids" ]]; then
        log "revoke $rule_ids"
        # shellcheck disable=SC2086
        aws ec2 revoke-security-group-ingress --group-id "$app_sg" \
            --security-group-rule-ids $rule_ids >/dev/null
    fi
    log "delete security groups $app_sg $alb_sg"
    aws ec2 delete-security-group --group-id "$app_sg"
    aws ec2 delete-security-group --group-id "$alb_sg"

    # 5. IAM: the profile (role out first), the role (policies off first), the
    # customer policy it had attached.
    profile="$svc-ecs-instance-profile"
    role="$svc-ecs-instance-role"
    log "delete instance profile $profile"
    aws iam remove-role-from-instance-profile --instance-profile-name "$profile" \
        --role-name "$role"
    aws iam delete-instance-profile --instance-profile-name "$profile"
    attached=$(aws iam list-attached-role-policies --role-name "$role" \
        --query 'AttachedPolicies[].PolicyArn' --output text)
    for arn in $attached; do
        aws iam detach-role-policy --role-name "$role" --policy-arn "$arn"
    done
    inline=$(aws iam list-role-policies --role-name "$role" \
        --query 'PolicyNames[]' --output text)
    for name in $inline; do
        aws iam delete-role-policy --role-name "$role" --policy-name "$name"
    done
    log "delete role $role"
    aws iam delete-role --role-name "$role"
    for arn in $attached; do
        # The stack's own policy only: never an AWS managed or a shared one.
        if [[ "$arn" == *":policy/$svc-"* ]]; then
            log "delete policy $arn"
            aws iam delete-policy --policy-arn "$arn"
        fi
    done

    # 6. Log groups.
    log_groups=$(aws logs describe-log-groups --log-group-name-prefix "/ecs/$svc" \
        --query 'logGroups[].logGroupName' --output text)
    for group in $log_groups; do
        log "delete log group $group"
        aws logs delete-log-group --log-group-name "$group"
    done
done
log "done: $# stacks"
