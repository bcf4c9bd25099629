//! One example stack per type for docs/stack-reference.md: data, a resource or two as a
//! user would write them.

/// A short example of each type: entries of `resources:`, as a reviewer would like to read
/// them. A unit test of `schema::docs` checks every one against the JSON Schema.
pub(super) fn example(rtype: &str) -> &'static str {
    match rtype {
        "aws.vpc" => {
            "\
vpc:
  type: aws.vpc
  cidr: 10.0.0.0/16
"
        }
        "aws.subnet" => {
            "\
public_a:
  type: aws.subnet
  vpc: ${vpc.id}
  cidr: 10.0.1.0/24
  az: ${region}a
  public: true
"
        }
        "aws.internet_gateway" => {
            "\
igw:
  type: aws.internet_gateway
  vpc: ${vpc.id}
"
        }
        "aws.eip" => {
            "\
nat_ip:
  type: aws.eip
"
        }
        "aws.nat_gateway" => {
            "\
nat:
  type: aws.nat_gateway
  subnet: ${public_a.id}   # a NAT gateway lives in a public subnet
  eip: ${nat_ip.id}
"
        }
        "aws.route_table" => {
            "\
public_routes:
  type: aws.route_table
  vpc: ${vpc.id}
  routes:
    - destination: 0.0.0.0/0
      gateway: ${igw.id}
  subnets:
    - ${public_a.id}
    - ${public_b.id}
"
        }
        "aws.security_group" => {
            "\
alb_sg:
  type: aws.security_group
  vpc: ${vpc.id}
  description: Load balancer, open to the internet on 80 and 443
  ingress:
    - { protocol: tcp, port: 80, cidr: 0.0.0.0/0 }
    - { protocol: tcp, port: 443, cidr: 0.0.0.0/0 }
app_sg:
  type: aws.security_group
  vpc: ${vpc.id}
  description: Tasks, reachable only from the load balancer
  ingress:
    - protocol: tcp
      port: 3000
      source: ${alb_sg.id}
      description: from the load balancer only
"
        }
        "aws.hosted_zone" => {
            "\
zone:
  type: aws.hosted_zone
  existing: true           # look up the zone you already own
  name: example.com
"
        }
        "aws.certificate" => {
            "\
cert:
  type: aws.certificate
  domain: ${var.domain}
  validation_zone: ${zone.id}
"
        }
        "aws.load_balancer" => {
            "\
alb:
  type: aws.load_balancer
  subnets:
    - ${public_a.id}
    - ${public_b.id}
  security_groups:
    - ${alb_sg.id}
"
        }
        "aws.target_group" => {
            "\
web_tg:
  type: aws.target_group
  vpc: ${vpc.id}
  port: 3000
  protocol: HTTP
  target_type: ip          # Fargate tasks register by IP
  health_check:
    path: /healthCheck     # served on HTTP, never redirected
    matcher: \"200\"
  deregistration_delay: 30
"
        }
        "aws.listener" => {
            "\
https:
  type: aws.listener
  load_balancer: ${alb.arn}
  port: 443
  protocol: HTTPS
  certificate: ${cert.arn}
  forward: ${web_tg.arn}
http:
  type: aws.listener
  load_balancer: ${alb.arn}
  port: 80
  protocol: HTTP
  redirect:
    protocol: HTTPS
    port: 443
    status: 301
"
        }
        "aws.listener_rule" => {
            "\
api:
  type: aws.listener_rule
  listener: ${https.arn}   # no priority: iac assigns one from the file's order
  conditions:
    host_header: [api.example.com]
    path_pattern: [/v1/*]
  forward:                 # a canary: 10% of the requests to green
    target_groups:
      - target_group: ${blue_tg.arn}
        weight: 90
      - target_group: ${green_tg.arn}
        weight: 10
maintenance:
  type: aws.listener_rule
  listener: ${https.arn}
  conditions:
    path_pattern: [/admin/*]
  fixed_response:
    status: 503
    body: down for maintenance
"
        }
        "aws.ecs_cluster" => {
            "\
cluster:
  type: aws.ecs_cluster
ec2_cluster:
  type: aws.ecs_cluster
  capacity_providers:
    - ${ec2.name}
    - FARGATE_SPOT
  default_strategy:
    - capacity_provider: ${ec2.name}
      base: 1
      weight: 1
    - capacity_provider: FARGATE_SPOT
      weight: 3
"
        }
        "aws.instance_profile" => {
            "\
instance_profile:
  type: aws.instance_profile
  role: ${instance_role.name}   # assumed_by: ec2.amazonaws.com, with AmazonEC2ContainerServiceforEC2Role
"
        }
        "aws.launch_template" => {
            "\
instances:
  type: aws.launch_template
  instance_type: t3.medium            # the AMI: the ECS-optimised Amazon Linux 2023 one
  instance_profile: ${instance_profile.arn}
  cluster: ${cluster.name}            # user data that joins the cluster
  security_groups:
    - ${instances_sg.id}
"
        }
        "aws.autoscaling_group" => {
            "\
asg:
  type: aws.autoscaling_group
  launch_template: ${instances.id}
  subnets:
    - ${private_a.id}
    - ${private_b.id}
  min: 1
  max: 6
  protect_from_scale_in: true         # for managed termination protection
"
        }
        "aws.capacity_provider" => {
            "\
ec2:
  type: aws.capacity_provider
  autoscaling_group: ${asg.arn}
  managed_scaling:
    target_capacity: 90
  managed_termination_protection: true
"
        }
        "aws.log_group" => {
            "\
logs:
  type: aws.log_group
  retention_days: 30
"
        }
        "aws.iam_role" => {
            "\
execution_role:
  type: aws.iam_role
  assumed_by: ecs-tasks.amazonaws.com
  managed_policies:
    - arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy
app_role:
  type: aws.iam_role
  assumed_by: ecs-tasks.amazonaws.com
  policies:                # one inline policy; iac adds what `secrets` and ECS Exec need
    - actions: [s3:GetObject, s3:PutObject]
      resources: [\"arn:aws:s3:::lemon-mart-uploads/*\"]
    - effect: Deny
      actions: [s3:DeleteObject]
      resources: [\"*\"]
"
        }
        "aws.ecr_repository" => {
            "\
repo:
  type: aws.ecr_repository
  immutable_tags: true
"
        }
        "aws.task_definition" => {
            "\
task:
  type: aws.task_definition
  cpu: 256                 # 0.25 vCPU
  memory: 512              # MiB
  execution_role: ${execution_role.arn}
  containers:
    - name: web
      image: ${repo.url}:${var.image_tag}
      port: 3000
      environment:
        NODE_ENV: production
      secrets:
        DATABASE_URL: arn:aws:ssm:us-east-1:123456789012:parameter/lemon-mart/database-url
      log_group: ${logs.name}
"
        }
        "aws.ecs_service" => {
            "\
web:
  type: aws.ecs_service
  cluster: ${cluster.arn}
  task_definition: ${task.arn}
  desired_count: ${var.tasks}
  subnets:
    - ${public_a.id}
    - ${public_b.id}
  security_groups:
    - ${app_sg.id}
  assign_public_ip: true   # public subnets without a NAT gateway
  load_balancer:
    target_group: ${web_tg.arn}
    container: web
    port: 3000
  deployment:
    min_healthy_percent: 100
    max_percent: 200
    circuit_breaker: rollback
  scaling:                 # desired_count is then only the starting count
    min: 2
    max: 6
    cpu: 60                # percent
    requests_per_target: 1000
"
        }
        "aws.service_discovery_namespace" => {
            "\
internal:
  type: aws.service_discovery_namespace
  name: internal
  vpc: ${vpc.id}
"
        }
        "aws.dns_record" => {
            "\
site:
  type: aws.dns_record
  zone: ${zone.id}
  name: ${var.domain}
  record_type: A
  alias:
    dns_name: ${alb.dns_name}
    zone_id: ${alb.zone_id}
verification:
  type: aws.dns_record
  zone: ${zone.id}
  name: _verify.${var.domain}
  record_type: TXT
  ttl: 300
  values:
    - \"\\\"site-verification=abc123\\\"\"
"
        }
        "aws.ssm_parameter" => {
            "\
fluent_bit_tag:
  type: aws.ssm_parameter
  existing: true
  name: /aws/service/aws-for-fluent-bit/stable
"
        }
        "iac.stack" => {
            "\
network:
  type: iac.stack
  stack: platform-network
shared:
  type: iac.stack
  stack: shared-dns
  state: s3://acme-iac-state/shared/shared-dns.json
"
        }
        other => unreachable!("no example for `{other}`: add one to schema::docs::examples"),
    }
}
