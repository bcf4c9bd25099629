"""What moto 5.2.5 accepts of the mismatches and out-of-limit values iac refuses at plan time.

Run: .venv/bin/python tests/emulator/limits_probe.py (starts its own emulator on a free
loopback port). docs/rules.md quotes its answers; iac does not rely on any of them.
"""
import subprocess, time, socket, boto3, os, sys
s=socket.socket(); s.bind(("127.0.0.1",0)); port=s.getsockname()[1]; s.close()
p=subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "moto_server"),"-H","127.0.0.1","-p",str(port)],stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL)
try:
    time.sleep(2.5)
    kw=dict(endpoint_url=f"http://127.0.0.1:{port}",region_name="us-east-1",aws_access_key_id="t",aws_secret_access_key="t")
    ec2=boto3.client("ec2",**kw); elb=boto3.client("elbv2",**kw); logs=boto3.client("logs",**kw); iam=boto3.client("iam",**kw); ecr=boto3.client("ecr",**kw); ecs=boto3.client("ecs",**kw)
    def t(name,f):
        try: f(); print("ACCEPTED:",name)
        except Exception as e: print("REJECTED:",name,"-",str(e)[:120])
    a=ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]; b=ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    t("vpc /8", lambda: ec2.create_vpc(CidrBlock="10.0.0.0/8"))
    t("subnet /30", lambda: ec2.create_subnet(VpcId=a,CidrBlock="10.0.9.0/30"))
    s1=ec2.create_subnet(VpcId=a,CidrBlock="10.0.1.0/24",AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    s2=ec2.create_subnet(VpcId=a,CidrBlock="10.0.2.0/24",AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
    t("subnet az eu-west-1a", lambda: ec2.create_subnet(VpcId=a,CidrBlock="10.0.3.0/24",AvailabilityZone="eu-west-1a"))
    sgb=ec2.create_security_group(GroupName="x",Description="x",VpcId=b)["GroupId"]
    t("sg description with non-ascii", lambda: ec2.create_security_group(GroupName="y",Description="café ü",VpcId=a))
    t("lb with sg of other vpc", lambda: elb.create_load_balancer(Name="mixed",Subnets=[s1,s2],SecurityGroups=[sgb]))
    t("lb name internal-web", lambda: elb.create_load_balancer(Name="internal-web",Subnets=[s1,s2]))
    t("lb name 40 chars", lambda: elb.create_load_balancer(Name="a"*40,Subnets=[s1,s2]))
    lb=elb.create_load_balancer(Name="web",Subnets=[s1,s2])["LoadBalancers"][0]["LoadBalancerArn"]
    t("tg name underscore", lambda: elb.create_target_group(Name="web_tg",Protocol="HTTP",Port=80,VpcId=a))
    t("tg interval 400", lambda: elb.create_target_group(Name="iv",Protocol="HTTP",Port=80,VpcId=a,HealthCheckIntervalSeconds=400))
    t("tg timeout>=interval", lambda: elb.create_target_group(Name="to",Protocol="HTTP",Port=80,VpcId=a,HealthCheckIntervalSeconds=10,HealthCheckTimeoutSeconds=10))
    tgb=elb.create_target_group(Name="tgb",Protocol="HTTP",Port=80,VpcId=b,TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
    t("listener to tg of other vpc", lambda: elb.create_listener(LoadBalancerArn=lb,Protocol="HTTP",Port=80,DefaultActions=[{"Type":"forward","TargetGroupArn":tgb}]))
    t("listener cert of other region", lambda: elb.create_listener(LoadBalancerArn=lb,Protocol="HTTPS",Port=443,Certificates=[{"CertificateArn":"arn:aws:acm:eu-west-1:123456789012:certificate/abc"}],DefaultActions=[{"Type":"forward","TargetGroupArn":tgb}]))
    t("log group name with space", lambda: logs.create_log_group(logGroupName="a b"))
    t("role name 70 chars", lambda: iam.create_role(RoleName="r"*70,AssumeRolePolicyDocument="{}"))
    t("ecr upper case", lambda: ecr.create_repository(repositoryName="Web"))
    t("cluster name with dot", lambda: ecs.create_cluster(clusterName="a.b"))
    t("vpc 48 tags+3", lambda: ec2.create_vpc(CidrBlock="10.2.0.0/16",TagSpecifications=[{"ResourceType":"vpc","Tags":[{"Key":f"t{i}","Value":"v"} for i in range(51)]}]))
finally:
    p.kill()
    p.wait()
