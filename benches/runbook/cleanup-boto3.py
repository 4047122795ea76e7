#!/usr/bin/env python3
"""Decommission ECS service stacks with a careful, sequential boto3 script.

The same steps as cleanup-awscli.sh, in one process: clients made once, every list
paginated, AWS's waiters for the load balancer and the instances, one stack after
another.

    cleanup-boto3.py svc-0001 [svc-0002 ...]

Region, credentials and endpoint come from the environment (AWS_DEFAULT_REGION,
AWS_ACCESS_KEY_ID, ..., AWS_ENDPOINT_URL). Used by `cargo bench --bench moto --
runbook` (benches/moto.rs).
"""

import sys
import time

import boto3

ec2 = boto3.client("ec2")
elbv2 = boto3.client("elbv2")
iam = boto3.client("iam")
logs = boto3.client("logs")


def log(message):
    print(time.strftime("%H:%M:%S"), message, file=sys.stderr)


def group_id(name):
    groups = ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [name]}]
    )["SecurityGroups"]
    return groups[0]["GroupId"]


def delete_load_balancer(svc):
    """Rules, listeners, the balancer; then wait until it and its interfaces go."""
    alb = elbv2.describe_load_balancers(Names=[f"{svc}-alb"])["LoadBalancers"][0]
    alb_arn = alb["LoadBalancerArn"]
    listeners = elbv2.get_paginator("describe_listeners")
    for page in listeners.paginate(LoadBalancerArn=alb_arn):
        for listener in page["Listeners"]:
            rules = elbv2.get_paginator("describe_rules")
            for rules_page in rules.paginate(ListenerArn=listener["ListenerArn"]):
                for rule in rules_page["Rules"]:
                    if not rule["IsDefault"]:
                        log(f"delete rule {rule['RuleArn']}")
                        elbv2.delete_rule(RuleArn=rule["RuleArn"])
            log(f"delete listener {listener['ListenerArn']}")
            elbv2.delete_listener(ListenerArn=listener["ListenerArn"])
    log(f"delete load balancer {alb_arn}")
    elbv2.delete_load_balancer(LoadBalancerArn=alb_arn)
    elbv2.get_waiter("load_balancers_deleted").wait(LoadBalancerArns=[alb_arn])
    # The ALB's network interfaces go some time after the balancer.
    for group in alb.get("SecurityGroups", []):
        while ec2.describe_network_interfaces(
            Filters=[{"Name": "group-id", "Values": [group]}]
        )["NetworkInterfaces"]:
            log(f"waiting for the network interfaces of {svc}-alb")
            time.sleep(15)


def delete_target_groups(svc):
    groups = elbv2.describe_target_groups(Names=[f"{svc}-blue", f"{svc}-green"])
    for group in groups["TargetGroups"]:
        log(f"delete target group {group['TargetGroupArn']}")
        elbv2.delete_target_group(TargetGroupArn=group["TargetGroupArn"])


def terminate_instances(svc):
    ids = []
    for page in ec2.get_paginator("describe_instances").paginate(
        Filters=[
            {"Name": "tag:Service", "Values": [svc]},
            {
                "Name": "instance-state-name",
                "Values": ["pending", "running", "stopping", "stopped"],
            },
        ]
    ):
        for reservation in page["Reservations"]:
            ids.extend(i["InstanceId"] for i in reservation["Instances"])
    if ids:
        log(f"terminate {ids}")
        ec2.terminate_instances(InstanceIds=ids)
        ec2.get_waiter("instance_terminated").wait(InstanceIds=ids)


def delete_security_groups(svc):
    alb_sg = group_id(f"{svc}-alb-sg")
    app_sg = group_id(f"{svc}-app-sg")
    rule_ids = []
    for page in ec2.get_paginator("describe_security_group_rules").paginate(
        Filters=[{"Name": "group-id", "Values": [app_sg]}]
    ):
        for rule in page["SecurityGroupRules"]:
            if rule.get("ReferencedGroupInfo", {}).get("GroupId") == alb_sg:
                rule_ids.append(rule["SecurityGroupRuleId"])
    if rule_ids:
        log(f"revoke {rule_ids}")
        ec2.revoke_security_group_ingress(GroupId=app_sg, SecurityGroupRuleIds=rule_ids)
    log(f"delete security groups {app_sg} {alb_sg}")
    ec2.delete_security_group(GroupId=app_sg)
    ec2.delete_security_group(GroupId=alb_sg)


def delete_iam(svc):
    profile = f"{svc}-ecs-instance-profile"
    role = f"{svc}-ecs-instance-role"
    log(f"delete instance profile {profile}")
    iam.remove_role_from_instance_profile(InstanceProfileName=profile, RoleName=role)
    iam.delete_instance_profile(InstanceProfileName=profile)
    attached = []
    for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role):
        attached.extend(p["PolicyArn"] for p in page["AttachedPolicies"])
    for arn in attached:
        iam.detach_role_policy(RoleName=role, PolicyArn=arn)
    for page in iam.get_paginator("list_role_policies").paginate(RoleName=role):
        for name in page["PolicyNames"]:
            iam.delete_role_policy(RoleName=role, PolicyName=name)
    log(f"delete role {role}")
    iam.delete_role(RoleName=role)
    for arn in attached:
        # The stack's own policy only: never an AWS managed or a shared one.
        if f":policy/{svc}-" in arn:
            log(f"delete policy {arn}")
            iam.delete_policy(PolicyArn=arn)


def delete_log_groups(svc):
    names = []
    for page in logs.get_paginator("describe_log_groups").paginate(
        logGroupNamePrefix=f"/ecs/{svc}"
    ):
        names.extend(g["logGroupName"] for g in page["logGroups"])
    for name in names:
        log(f"delete log group {name}")
        logs.delete_log_group(logGroupName=name)


def main(services):
    for svc in services:
        log(f"== {svc}")
        delete_load_balancer(svc)
        delete_target_groups(svc)
        terminate_instances(svc)
        delete_security_groups(svc)
        delete_iam(svc)
        delete_log_groups(svc)
    log(f"done: {len(services)} stacks")


if __name__ == "__main__":
    main(sys.argv[1:])
